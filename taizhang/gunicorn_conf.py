"""gunicorn configuration for production: `taizhang serve`, or `gunicorn -c taizhang/gunicorn_conf.py taizhang.wsgi`.

Everything comes from Taizhang's settings (read here, in the master, so a bad variable stops gunicorn
before any worker starts, naming the variable):

* TAIZHANG_WEB_WORKERS processes (default 2 × CPUs + 1) × TAIZHANG_WEB_THREADS threads (default 4);
  each process has its own database pool of at most TAIZHANG_DB_POOL_MAX connections (default: one per
  thread), so the site opens at most workers × TAIZHANG_DB_POOL_MAX connections to PostgreSQL.
* TAIZHANG_WEB_TIMEOUT: a request still running after it (default 60 s) gets its worker restarted;
  on SIGTERM workers finish their requests for up to 30 s (graceful_timeout).
* Logs: the error log on stderr in TAIZHANG_LOG_FORMAT (JSON in production); the access log off unless
  TAIZHANG_ACCESS_LOG=1 (then JSON too, with the request id) — the proxy usually keeps one already.
* X-Forwarded-Proto is believed from TAIZHANG_TRUSTED_PROXIES only.
* Each worker loads mechanisms, calendars, rules and the topic model before its first request.
* Prometheus multiprocess mode: PROMETHEUS_MULTIPROC_DIR (unset: a private temporary directory, the
  usual choice) is emptied at start and a dead worker's files are marked, so /metrics adds up all workers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from gunicorn import glogging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.settings")
# Set before any worker imports prometheus_client (the workers inherit the environment). Unset, a private
# directory of this server, removed when it stops; other processes (the scheduler) must not share it.
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="taizhang-prometheus-")

from django.conf import settings  # noqa: E402

from taizhang.ops.config import logging_config  # noqa: E402

wsgi_app = "taizhang.wsgi:application"
bind = [settings.TAIZHANG_WEB_BIND]
worker_class = "gthread"
workers = settings.TAIZHANG_WEB_WORKERS
threads = settings.TAIZHANG_WEB_THREADS
timeout = settings.TAIZHANG_WEB_TIMEOUT
graceful_timeout = 30
keepalive = 5
# Recycle a worker now and then, so that a slow leak cannot grow for ever.
max_requests = 10000
max_requests_jitter = 1000
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
forwarded_allow_ips = ",".join(str(net) for net in settings.TAIZHANG_TRUSTED_PROXIES)
proc_name = "taizhang"
control_socket_disable = True  # gunicorn ≥ 25: no control socket (several instances may share a host)
errorlog = "-"
loglevel = "info"
accesslog = "-" if settings.TAIZHANG_ACCESS_LOG else None


class JsonLogger(glogging.Logger):
    """gunicorn's logger with a structured access line: method, path, status, duration, request id."""

    def access(self, resp, req, environ, request_time) -> None:
        if not self.cfg.accesslog:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        fields = {
            "remote": atoms["h"],
            "method": atoms["m"],
            "path": atoms["U"],
            "query": atoms["q"],
            "status": int(atoms["s"]),
            "bytes": atoms["B"],
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "user_agent": atoms["a"],
            "request_id": atoms.get("{x-request-id}o", "-"),
        }
        self.access_log.info("%s %s %s", atoms["m"], atoms["U"], atoms["s"], extra=fields)


logger_class = JsonLogger
logconfig_dict = logging_config(
    settings.TAIZHANG_LOG_FORMAT,
    settings.TAIZHANG_LOG_LEVEL,
    {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
    },
)


def on_starting(server) -> None:
    """Empty the multiprocess directory: files of an earlier run would be added to this one's metrics."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if directory.exists():
        for entry in directory.iterdir():
            if entry.is_file():
                entry.unlink()
            else:
                shutil.rmtree(entry)
    directory.mkdir(parents=True, exist_ok=True)


def when_ready(server) -> None:
    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
    cfg = server.cfg
    connections = f"at most {cfg.workers * pool['max_size']} database connections" if pool else "no pool"
    server.log.info(
        "taizhang: %s workers × %s threads, %s (TAIZHANG_ENV=%s)",
        cfg.workers,
        cfg.threads,
        connections,
        settings.TAIZHANG_ENV,
    )


def post_worker_init(worker) -> None:
    """Before the worker takes its first request: load mechanisms, calendars, rules and the topic model."""
    from taizhang.ops.warmup import warm_up

    worker.log.info("taizhang: worker %s warmed up in %.1f s", worker.pid, warm_up())


def worker_exit(server, worker) -> None:
    """Close the worker's pooled connections, so that PostgreSQL sees a clean goodbye."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if connection.vendor == "postgresql":
            connection.close_pool()


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
