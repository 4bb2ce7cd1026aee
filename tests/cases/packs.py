"""Engine tests under an extra rule pack: the shipped mechanisms and packs plus one written by the test."""

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
def extra_mechanism(tmp_path: Path, source: Path) -> Iterator[Path]:
    """The shipped mechanism directory copied under `tmp_path` with the mechanism file `source` added,
    loaded for the duration of the block (the registry is reloaded before and after)."""
    directory = tmp_path / "mechanisms"
    shutil.copytree(settings.TAIZHANG_MECHANISM_DIR, directory)
    shutil.copy(source, directory / source.name)
    shipped = settings.TAIZHANG_MECHANISM_DIR
    settings.TAIZHANG_MECHANISM_DIR = directory
    reset_registry()
    try:
        yield directory
    finally:
        settings.TAIZHANG_MECHANISM_DIR = shipped
        reset_registry()
