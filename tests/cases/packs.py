"""Engine tests under an extra rule pack or mechanism: the shipped mechanisms and packs plus one file
written (or edited) by the test, loaded for the duration of a block."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from taizhang.mechanisms.registry import reset_registry


def shipped_copy(tmp_path: Path) -> Path:
    """The shipped mechanism directory copied under `tmp_path`."""
    directory = tmp_path / "mechanisms"
    shutil.copytree(settings.TAIZHANG_MECHANISM_DIR, directory)
    return directory


@contextmanager
def loaded(directory: Path) -> Iterator[Path]:
    """The mechanisms of `directory` for the duration of the block (the registry reloaded before and after)."""
    shipped = settings.TAIZHANG_MECHANISM_DIR
    settings.TAIZHANG_MECHANISM_DIR = directory
    reset_registry()
    try:
        yield directory
    finally:
        settings.TAIZHANG_MECHANISM_DIR = shipped
        reset_registry()


@contextmanager
def extra_pack(tmp_path: Path, text: str, name: str = "test.yaml") -> Iterator[Path]:
    """The shipped mechanisms with `packs/<name>` added."""
    directory = shipped_copy(tmp_path)
    (directory / "packs" / name).write_text(text, encoding="utf-8")
    with loaded(directory):
        yield directory


@contextmanager
def extra_mechanism(tmp_path: Path, source: str | Path, name: str | None = None) -> Iterator[Path]:
    """The shipped mechanisms with one more file: `source` copied when it is a path, else written as text
    to `name`."""
    directory = shipped_copy(tmp_path)
    if isinstance(source, Path):
        shutil.copy(source, directory / (name or source.name))
    else:
        (directory / (name or "test_mechanism.yaml")).write_text(source, encoding="utf-8")
    with loaded(directory):
        yield directory


@contextmanager
def edited(tmp_path: Path, file: str, old: str, new: str) -> Iterator[Path]:
    """The shipped mechanisms with one file edited (`old`, found once, replaced by `new`)."""
    directory = shipped_copy(tmp_path)
    text = (directory / file).read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    (directory / file).write_text(text.replace(old, new), encoding="utf-8")
    with loaded(directory):
        yield directory
