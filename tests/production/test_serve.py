"""`taizhang serve` for real: collectstatic, the checks, then gunicorn with taizhang/gunicorn_conf.py on a
free port, in production mode, on this test run's database. And on PostgreSQL: a request that cannot get
a connection from the pool within its timeout is answered 503, and the other requests go on."""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from .helpers import REPO, SANE, child_env, database_url, free_port, taizhang

pytestmark = pytest.mark.django_db(transaction=True)  # the server's processes must see committed data
HTTPS = {"X-Forwarded-Proto": "https"}  # what nginx (127.0.0.1, trusted) tells the app


@dataclass
class Server:
    port: int
    log: Path
    proc: subprocess.Popen

    def get(
        self, path: str, headers: dict[str, str] | None = None, timeout: float = 30
    ) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        response.body = response.read()
        conn.close()
        return response

    def log_lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()


@pytest.fixture(scope="module")
def static_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("static")


@contextmanager
def served(tmp_path: Path, static_root: Path, **overrides: str) -> Iterator[Server]:
    port = free_port()
    env = {
        **SANE,
        "DATABASE_URL": database_url(connection.settings_dict),
        "TAIZHANG_ALLOWED_HOSTS": "127.0.0.1",
        "TAIZHANG_STATIC_ROOT": str(static_root),
        "TAIZHANG_MEDIA_ROOT": str(tmp_path / "media"),
        "TAIZHANG_MODEL_DIR": str(tmp_path / "models"),
        "TAIZHANG_WEB_WORKERS": "2",
        "TAIZHANG_WEB_THREADS": "2",
        **overrides,
    }
    if connection.vendor == "sqlite":
        env["TAIZHANG_ALLOW_SQLITE"] = "1"
    args = ["serve", "--bind", f"127.0.0.1:{port}"]
    if (static_root / "staticfiles.json").exists():
        args.append("--no-collectstatic")  # collected by the first test of the module already
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "taizhang.cli", *args],
            env=child_env(env),
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(port, log, proc)
    try:
        deadline = time.monotonic() + 180  # collectstatic compresses every file: slow on a busy machine
        while True:
            assert proc.poll() is None, f"serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
            try:
                if server.get("/healthz", timeout=5).status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_serve_runs_gunicorn_in_production_mode(tmp_path, static_root):
    with served(tmp_path, static_root) as server:
        health = server.get("/healthz")
        assert health.status == 200 and json.loads(health.body) == {"status": "ok"}
        ready = server.get("/readyz")
        assert ready.status == 200, ready.body
        assert json.loads(ready.body)["checks"]["static"] == "ok"

        page = server.get("/portal/ledger/", HTTPS)
        assert page.status == 200, server.log.read_text()[-3000:]
        assert len(page.getheader("X-Request-ID")) == 32
        assert page.getheader("Strict-Transport-Security").startswith("max-age=31536000")
        css = re.search(r"/static/[\w/.-]+\.[0-9a-f]{12}\.css", page.body.decode())
        assert css, "static URLs carry the content hash in production"
        static = server.get(css.group(0), HTTPS)
        assert static.status == 200 and "immutable" in static.getheader("Cache-Control")

        plain = server.get("/portal/ledger/")  # not through the HTTPS proxy: sent there
        assert plain.status == 301 and plain.getheader("Location").startswith("https://")

        for _ in range(6):
            assert server.get("/portal/", HTTPS).status == 200
        metrics = server.get("/metrics").body.decode()  # from 127.0.0.1: allowed
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(metrics)
            for s in family.samples
        }
        home = (
            "django_http_responses_total_by_status_view_method_total",
            (("method", "GET"), ("status", "200"), ("view", "portal:home")),
        )
        assert samples[home] == 6  # added up over both workers, whichever answered the scrape
        assert ("taizhang_worker_due_cases", (("mechanism", "hazard"),)) in samples
    assert server.proc.returncode == 0  # SIGTERM: graceful stop
    lines = [line for line in server.log_lines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert any(r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in records)
    assert any("warmed up" in r["message"] for r in records)


@pytest.mark.postgres
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the pool is PostgreSQL's")
def test_no_connection_from_the_pool_within_its_timeout_is_503(tmp_path, static_root):
    import psycopg

    settings = {
        "TAIZHANG_WEB_WORKERS": "1",
        "TAIZHANG_WEB_THREADS": "3",
        "TAIZHANG_DB_POOL_MAX": "1",
        "TAIZHANG_DB_POOL_TIMEOUT": "1",
    }
    with served(tmp_path, static_root, **settings) as server:
        url = database_url(connection.settings_dict)
        with psycopg.connect(url) as locker:
            locker.execute("LOCK TABLE cases_case IN ACCESS EXCLUSIVE MODE")  # until this transaction ends
            first: dict = {}
            holder = threading.Thread(target=lambda: first.update(r=server.get("/portal/ledger/", HTTPS, 60)))
            holder.start()
            with psycopg.connect(url, autocommit=True) as watch:
                for _ in range(100):  # until the first request waits for the lock, holding the one connection
                    waiting = watch.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'"
                    ).fetchone()[0]
                    if waiting:
                        break
                    time.sleep(0.1)
            assert waiting, "the first request never reached the locked table"
            started = time.monotonic()
            second = server.get("/portal/ledger/", {**HTTPS, "Accept": "application/json"})
            assert time.monotonic() - started < 15
            locker.rollback()  # the first request goes on
        holder.join(60)
        assert second.status == 503 and second.getheader("Retry-After") == "5"
        body = json.loads(second.body)
        assert body["code"] == "service_unavailable" and body["request_id"] == second.getheader(
            "X-Request-ID"
        )
        assert first["r"].status == 200
        assert server.get("/readyz").status == 200
    errors = [json.loads(line) for line in server.log_lines() if line.startswith("{") and '"ERROR"' in line]
    pool = [r for r in errors if r.get("request_id") == body["request_id"]]
    assert pool and "PoolTimeout" in pool[0]["exc_info"] and pool[0]["status_code"] == 503


@pytest.mark.postgres
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the pool is PostgreSQL's")
def test_serve_refuses_more_connections_than_postgresql_allows():
    from taizhang.ops.management.commands.serve import connection_budget

    assert connection_budget(2, 4) is None and connection_budget(200, None) is None
    env = {**SANE, "DATABASE_URL": database_url(connection.settings_dict), "TAIZHANG_WEB_WORKERS": "200"}
    proc = taizhang(["serve", "--no-collectstatic"], child_env(env))
    assert proc.returncode != 0
    assert "200 workers (TAIZHANG_WEB_WORKERS) × 4 connections (TAIZHANG_DB_POOL_MAX)" in proc.stderr
