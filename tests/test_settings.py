"""Settings come from the environment and fail loudly on bad values."""

import os
import subprocess
import sys

import pytest

CASES = [
    ({"TAIZHANG_DEBUG": "maybe"}, "TAIZHANG_DEBUG='maybe'"),
    ({"TAIZHANG_DEBUG": "0", "TAIZHANG_SECRET_KEY": ""}, "TAIZHANG_SECRET_KEY must be set"),
    ({"DATABASE_URL": "mysql://x@y/z"}, "only sqlite:// and postgresql://"),
    ({"TAIZHANG_MAX_UPLOAD_MB": "ten"}, "TAIZHANG_MAX_UPLOAD_MB='ten': expected a whole number"),
    ({"TAIZHANG_CALENDAR_UNKNOWN_YEAR": "guess"}, "expected one of error, weekends"),
    ({"TAIZHANG_MEDIA_STORAGE": "ftp"}, "TAIZHANG_MEDIA_STORAGE='ftp'"),
]


@pytest.mark.parametrize(("env", "message"), CASES)
def test_bad_setting_stops_start_up_naming_it(env, message):
    full = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    proc = subprocess.run(
        [sys.executable, "-m", "taizhang.cli", "check"], env=full, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert message in proc.stderr
