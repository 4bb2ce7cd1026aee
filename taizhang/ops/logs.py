"""Log records as JSON objects (python-json-logger) or text lines, each with the id of its request."""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from .context import request_id

FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}


class RequestContextFilter(logging.Filter):
    """Adds `request_id` to every record (the current request's, "-" outside one) and replaces Django's
    `request` attribute (an HttpRequest, which no log line should dump) by its method and path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        request = record.__dict__.pop("request", None)
        if request is not None and hasattr(request, "path"):
            record.method = getattr(request, "method", "")
            record.path = request.path
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, the extra fields, exc_info."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", RENAMED)
        kwargs.setdefault("json_ensure_ascii", False)  # Chinese stays readable
        super().__init__(FIELDS, *args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        from datetime import UTC, datetime

        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
