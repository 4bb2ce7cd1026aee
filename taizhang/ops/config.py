"""Helpers of the production block of taizhang/settings.py: parsing, sizing and the refusal of unsafe
settings. Pure functions over the environment (settings are not configured yet when they run); every
problem is an ImproperlyConfigured that names the variable to change."""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Any

from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
DEV_KEY_PREFIXES = ("dev-only-insecure-key", "django-insecure")
MIN_KEY_LENGTH = 50  # Django's own deploy check (security.W009) asks for 50 characters, 5 of them distinct
HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")


def cpu_count() -> int:
    """The CPUs this process may run on (a container's cpuset counts, the whole machine does not)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    """gunicorn's advice, 2 × CPUs + 1: Python runs one thread at a time per process."""
    return 2 * cpu_count() + 1


def env_networks(name: str, default: str) -> list[Network]:
    """Comma-separated addresses or networks (10.0.0.0/8, ::1); anything else names the variable."""
    raw = os.environ.get(name)
    raw = default if raw is None else raw
    networks = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{name}={raw!r}: {item!r} is not an IP address or network") from None
    return networks


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """ "X-Forwarded-Proto: https" → Django's SECURE_PROXY_SSL_HEADER ("HTTP_X_FORWARDED_PROTO", "https")."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    header, sep, value = raw.partition(":")
    header, value = header.strip(), value.strip()
    if not sep or not HEADER_NAME.match(header) or not value:
        raise ImproperlyConfigured(
            f"{name}={raw!r}: expected 'Header-Name: value', e.g. 'X-Forwarded-Proto: https'"
        )
    return "HTTP_" + header.upper().replace("-", "_"), value


def secret_key_problem(key: str) -> str | None:
    """Why a secret key is unfit for production, or None."""
    if not key:
        return "is not set"
    if key.startswith(DEV_KEY_PREFIXES):
        return "is a development key"
    if len(key) < MIN_KEY_LENGTH:
        return f"has {len(key)} characters; use at least {MIN_KEY_LENGTH} random ones"
    if len(set(key)) < 5:
        return "has fewer than 5 distinct characters"
    return None


def refuse_unsafe_production(
    *,
    debug: bool,
    secret_key: str,
    allowed_hosts: list[str],
    sqlite: bool,
    secure_cookies: bool,
    proxy_header: bool,
    trusted_proxies: bool,
) -> None:
    """With TAIZHANG_ENV=production, stop at the first unsafe setting, naming the variable to change."""
    if debug:
        raise ImproperlyConfigured(
            "TAIZHANG_DEBUG is on: debug pages show settings, code and data to anybody. "
            "With TAIZHANG_ENV=production set TAIZHANG_DEBUG=0."
        )
    problem = secret_key_problem(secret_key)
    if problem:
        raise ImproperlyConfigured(
            f"TAIZHANG_SECRET_KEY {problem} (TAIZHANG_ENV=production). Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    if not allowed_hosts or "*" in allowed_hosts:
        raise ImproperlyConfigured(
            f"TAIZHANG_ALLOWED_HOSTS={','.join(allowed_hosts)!r}: name the site's host names "
            "(no '*') with TAIZHANG_ENV=production"
        )
    if sqlite:
        raise ImproperlyConfigured(
            "DATABASE_URL is SQLite: production runs on PostgreSQL (DATABASE_URL=postgresql://…). "
            "For a small single-server site set TAIZHANG_ALLOW_SQLITE=1 to accept SQLite knowingly."
        )
    if not secure_cookies:
        raise ImproperlyConfigured(
            "TAIZHANG_SECURE_COOKIES=0: session and CSRF cookies would travel over plain HTTP. "
            "Serve the site over HTTPS (TLS at the proxy) and leave TAIZHANG_SECURE_COOKIES on."
        )
    if proxy_header and not trusted_proxies:
        raise ImproperlyConfigured(
            "TAIZHANG_PROXY_SSL_HEADER is set but TAIZHANG_TRUSTED_PROXIES is empty: name the proxy's "
            "addresses, so that the header is believed from the proxy only"
        )


def logging_config(fmt: str, level: str, extra_loggers: dict[str, Any] | None = None) -> dict[str, Any]:
    """One handler, stderr, for everything: JSON objects (fmt "json") or plain lines ("text"), each with
    the request id. django.request logs every 5xx with its traceback; 4xx answers are not logged."""
    formatter: dict[str, Any] = (
        {"()": "taizhang.ops.logs.JsonFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    loggers: dict[str, Any] = {
        "taizhang": {"level": level},
        # Django's defaults print to the console only with DEBUG on and mail errors to ADMINS: both
        # handlers go, so that a 500 in production is a line with its traceback on stderr.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"level": "ERROR"},
        **(extra_loggers or {}),
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "taizhang.ops.logs.RequestContextFilter"}},
        "formatters": {"main": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "main",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": loggers,
    }
