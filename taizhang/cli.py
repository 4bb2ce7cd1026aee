"""The `taizhang` console command: manage.py under a shorter name."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run a Django management command with Taizhang's settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["taizhang", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
