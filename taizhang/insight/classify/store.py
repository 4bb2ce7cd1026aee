"""Versioned model directories: `<root>/<version>/{manifest.json, pipeline.joblib}` and `<root>/ACTIVE`.

The manifest says what the model is: the format version of this layout and of the features it was
trained with (`FORMAT_VERSION`), the library versions, the labels, a hash of the training data, the
training time and the held-out figures. `ACTIVE` names the version intake uses; writing it is atomic
(a temporary file renamed over it), so a running platform switches models between two requests. A model
from another format, or pickled by another scikit-learn minor version, is refused with a clear error
rather than loaded into something that might predict nonsense: train it again.

The pipeline is a pickle (joblib): load only model directories you made yourself.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import joblib
from django.conf import settings
from django.utils import timezone
from sklearn.pipeline import Pipeline

from taizhang.errors import ActionError

from .model import Prediction, predict

log = logging.getLogger("taizhang.insight")

# Bump when the directory layout, the manifest or what features.py/ngrams.py/nbsvm.py compute changes.
# 2: NB-SVM with stacked probabilities (nbsvm.py) instead of a Platt-calibrated LinearSVC.
FORMAT_VERSION = 2
MANIFEST, PIPELINE, ACTIVE = "manifest.json", "pipeline.joblib", "ACTIVE"
LIBRARIES = ("scikit-learn", "numpy", "scipy", "joblib", "rjieba")
VERSION_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")


def model_error(code: str, message: str) -> ActionError:
    return ActionError(code, message, 422)


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = package_version(name)
        except PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[name] = "unknown"
    return out


def minor(version: str) -> str:
    """'1.9.1' -> '1.9'."""
    return ".".join(version.split(".")[:2])


@dataclass
class TopicModel:
    """A trained model as stored: its version, directory, manifest and pipeline."""

    version: str
    path: Path
    manifest: dict[str, Any]
    pipeline: Pipeline

    @property
    def labels(self) -> list[str]:
        return list(self.manifest.get("labels", []))

    def predict(self, texts: list[str]) -> list[Prediction]:
        return predict(self.pipeline, texts)

    def predict_one(self, text: str) -> Prediction:
        return predict(self.pipeline, [text])[0]


def model_root() -> Path:
    """Where models are kept: the TAIZHANG_MODEL_DIR setting."""
    return Path(settings.TAIZHANG_MODEL_DIR)


def new_version(root: Path, data_hash: str, now: datetime | None = None) -> str:
    """A version name that sorts by time and says which data it learnt: 20261124-1530-3fa2c1."""
    stamp = timezone.localtime(now or timezone.now()).strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-{data_hash[:6]}"
    name, n = base, 1
    while (root / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def save_model(
    pipeline: Pipeline,
    root: Path,
    *,
    labels: list[str],
    training: dict[str, Any],
    metrics: dict[str, Any],
    params: dict[str, Any],
    now: datetime | None = None,
) -> TopicModel:
    """Write a new version directory under `root` (complete or not at all) and return it."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    version = new_version(root, training.get("sha256", "000000"), now)
    manifest = {
        "format": FORMAT_VERSION,
        "version": version,
        "task": "topic",
        "created_at": timezone.localtime(now or timezone.now()).isoformat(),
        "labels": labels,
        "libraries": library_versions(),
        "training": training,
        "metrics": metrics,
        "params": params,
    }
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=root))
    try:
        joblib.dump(pipeline, staging / PIPELINE, compress=3)
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        staging.rename(root / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return TopicModel(version, root / version, manifest, pipeline)


def activate(root: Path, version: str) -> None:
    """Make `version` the model intake uses (checked loadable first)."""
    root = Path(root)
    if not VERSION_NAME.match(version):
        raise model_error("model_not_found", f"模型版本名无效：{version}")
    load_model(root / version)
    fd, tmp = tempfile.mkstemp(prefix=".ACTIVE-", dir=root)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(version + "\n")
    os.replace(tmp, root / ACTIVE)


def active_version(root: Path) -> str | None:
    """The version `root/ACTIVE` names, or None when there is none."""
    try:
        name = (Path(root) / ACTIVE).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return name or None


def versions(root: Path) -> list[str]:
    """The version directories under `root`, oldest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / MANIFEST).is_file())


def resolve(path: Path) -> Path:
    """A version directory itself, or the active version of a model root."""
    path = Path(path)
    if (path / MANIFEST).is_file():
        return path
    version = active_version(path)
    if version is None:
        raise model_error("model_not_found", f"{path} 既不是模型目录，也没有 ACTIVE 指向的当前模型")
    return path / version


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a version directory, checked for a format and libraries this code can load."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise model_error("model_not_found", f"模型目录 {path} 中没有 {MANIFEST}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise model_error("model_manifest_invalid", f"模型清单 {path / MANIFEST} 无法读取：{exc}") from None
    if not isinstance(manifest, dict):
        raise model_error("model_manifest_invalid", f"模型清单 {path / MANIFEST} 应为 JSON 对象")
    found = manifest.get("format")
    if found != FORMAT_VERSION:
        raise model_error(
            "model_version_unsupported",
            f"模型 {path.name} 的格式版本为 {found}，本系统只能加载格式版本 {FORMAT_VERSION} 的模型，"
            "请用 `taizhang insight train` 重新训练",
        )
    trained = (manifest.get("libraries") or {}).get("scikit-learn", "")
    current = library_versions()["scikit-learn"]
    if minor(trained) != minor(current):
        raise model_error(
            "model_library_mismatch",
            f"模型 {path.name} 由 scikit-learn {trained or '（未知版本）'} 训练，当前为 {current}，"
            "请用 `taizhang insight train` 重新训练",
        )
    return manifest


def load_model(path: Path) -> TopicModel:
    """Load a version directory (or a root's active version); ActionError says what is wrong."""
    path = resolve(Path(path))
    manifest = read_manifest(path)
    try:
        pipeline = joblib.load(path / PIPELINE)
    except FileNotFoundError:
        raise model_error("model_not_found", f"模型目录 {path} 中没有 {PIPELINE}") from None
    except Exception as exc:  # a truncated or foreign pickle: say which file
        raise model_error("model_corrupt", f"模型文件 {path / PIPELINE} 无法加载：{exc}") from None
    return TopicModel(manifest.get("version") or path.name, path, manifest, pipeline)


# ------------------------------------------------------------------------------------- the cache

_lock = threading.Lock()
_cached: dict[str, Any] = {"key": None, "model": None}


def active_model() -> TopicModel | None:
    """The active model of TAIZHANG_MODEL_DIR, loaded once and kept while `ACTIVE` names it.

    None when no model is active. A model that cannot be loaded is logged once and treated as none,
    so intake goes on as without a model.
    """
    root = model_root()
    version = active_version(root)
    if version is None:
        return None
    key = (str(root.resolve()), version)
    if _cached["key"] == key:
        return _cached["model"]
    with _lock:
        if _cached["key"] != key:
            try:
                model = load_model(root / version)
            except ActionError as exc:
                log.error("active model %s not used: %s (%s)", version, exc.message, exc.code)
                model = None
            _cached.update(key=key, model=model)
    return _cached["model"]


def forget_model() -> None:
    """Drop the cached model (tests; the cache also follows `ACTIVE` by itself)."""
    with _lock:
        _cached.update(key=None, model=None)
