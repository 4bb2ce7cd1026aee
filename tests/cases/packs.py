"""Engine tests under an extra rule pack or mechanism: the shipped mechanisms and packs plus one file
written by the test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from taizhang.mechanisms.registry import reset_registry


@contextmanager
def extra_pack(tmp_path: Path, text: str, name: str = "test.yaml") -> Iterator[Path]:
    """The shipped mechanism directory copied under `tmp_path` with `packs/<name>` added, loaded for the
    duration of the block (the registry is reloaded before and after)."""
    directory = tmp_path / "mechanisms"
    shutil.copytree(settings.TAIZHANG_MECHANISM_DIR, directory)
    (directory / "packs" / name).write_text(text, encoding="utf-8")
    shipped = settings.TAIZHANG_MECHANISM_DIR
    settings.TAIZHANG_MECHANISM_DIR = directory
    reset_registry()
    try:
        yield directory
    finally:
        settings.TAIZHANG_MECHANISM_DIR = shipped
        reset_registry()


@contextmanager
def extra_mechanism(tmp_path: Path, source: str | Path, name: str | None = None) -> Iterator[Path]:
    """The shipped mechanism directory copied under `tmp_path` with one more mechanism file — `source`
    copied when it is a path, else written as text to `name` — loaded for the duration of the block (the
    registry is reloaded before and after)."""
    directory = tmp_path / "mechanisms"
    shutil.copytree(settings.TAIZHANG_MECHANISM_DIR, directory)
    if isinstance(source, Path):
        shutil.copy(source, directory / (name or source.name))
    else:
        (directory / (name or "test_mechanism.yaml")).write_text(source, encoding="utf-8")
    shipped = settings.TAIZHANG_MECHANISM_DIR
    settings.TAIZHANG_MECHANISM_DIR = directory
    reset_registry()
    try:
        yield directory
    finally:
        settings.TAIZHANG_MECHANISM_DIR = shipped
        reset_registry()
