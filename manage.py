#!/usr/bin/env python
"""Django's manage.py; `taizhang` is the same command installed on the PATH."""

from taizhang.cli import main

if __name__ == "__main__":
    main()
