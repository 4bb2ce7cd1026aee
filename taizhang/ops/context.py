"""The id of the request being served, for every log line written while serving it."""

from __future__ import annotations

import contextvars

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("taizhang_request_id", default="-")
