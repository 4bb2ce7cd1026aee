"""Running `taizhang` in a child process with a production environment, and the test database's URL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[2]
SECRET = "k" * 10 + "9f3Jq-Xw8Lm2Vb7Nc4Zt6Yh1Rd5Gs0Pa" + "e" * 20  # 64 characters, many distinct
UNREACHABLE_PG = "postgresql://postgres@127.0.0.1:1/nothing"  # port 1: connection refused at once

# What the production refusals leave alone: the environment an operator sets behind nginx.
SANE = {
    "TAIZHANG_ENV": "production",
    "TAIZHANG_SECRET_KEY": SECRET,
    "TAIZHANG_ALLOWED_HOSTS": "taizhang.example.cn",
    "DATABASE_URL": UNREACHABLE_PG,
    "TAIZHANG_TRUSTED_PROXIES": "127.0.0.1",
    "TAIZHANG_TRUSTED_PROXY_HEADER": "X-Forwarded-For",
    "TAIZHANG_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
}


def child_env(overrides: dict[str, str]) -> dict[str, str]:
    """This process's environment without any TAIZHANG_*/DATABASE_URL setting (nor the tests' async
    switch, which the deploy check rightly refuses), plus `overrides`."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TAIZHANG_")
        and k not in ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    return {**base, "DJANGO_SETTINGS_MODULE": "taizhang.settings", **overrides}


def taizhang(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """`taizhang ARGS` in a child process with exactly `env` (see child_env)."""
    return subprocess.run(
        [sys.executable, "-m", "taizhang.cli", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def shell_json(code: str, env: dict[str, str]) -> object:
    """Run Python in `taizhang shell` and read the JSON it prints last."""
    proc = taizhang(["shell", "-c", code], env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def database_url(settings_dict: dict) -> str:
    """The DATABASE_URL of a database the tests are using (its settings_dict, test name included)."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict.get("USER") or "")
    password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgresql://{user}{password}@{host}{port}/{settings_dict['NAME']}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
