"""Load measure: the production server under concurrent staff, API and portal clients, next to /healthz.

    python bench/load.py [--clients 50] [--duration 60] [--baseline-duration 20]
                         [--workers N] [--threads N] [--postgres-url URL]
    python bench/load.py --url http://127.0.0.1:8000 --database-url postgresql://…/db   # a running server

By default the script builds everything itself: a throw-away PostgreSQL database
(``taizhang_bench_<pid>``, dropped at the end) with the demo district (``taizhang demo``: 300 hazard
cases, 200 demands, 12 petitions and a topic model), the static files collected, and the server started
the production way (``taizhang serve``: gunicorn with ``taizhang/gunicorn_conf.py``,
``TAIZHANG_ENV=production``, the psycopg pool) on a free port, with the scheduler (``taizhang worker``)
beside it. Then, in one run:

1. **The mix** for ``--duration`` seconds: ``--clients`` threads with keep-alive connections. Half are
   staff signed in through the login form (工作台, case list, case pages, hot spots, dashboard), three in
   ten are API machines with bearer tokens (lists, details, hot spots, and now and then a new 12345
   demand — a repeat of a demo demand, so it joins its hot spot — that a dispatcher then 派单s with
   ``expected_version``), two in ten are residents on the portal (home, the public ledger, and now and
   then a demand sent through the form, each from its own address behind the trusted proxy).
2. **The baseline**: the same number of clients on ``/healthz`` (no database, no template) for
   ``--baseline-duration`` seconds: what the server and this client manage on this machine at all.

It prints requests/s, latency p50/p95/p99 and the count of 4xx and 5xx per phase and per kind of
request, and the server's error log lines. The run fails (exit 1) on any 5xx or connection error.
The clients are Python threads on the same machine as the server: they take CPU from it, which the
/healthz baseline shows.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_POSTGRES_ADMIN_URL, REPO, print_table, redact, throwaway_database
from bench.load_client import (
    Sample,
    Session,
    api_action,
    healthz_action,
    login,
    portal_action,
    run_clients,
    staff_action,
    visible_numbers,
)

TAIZHANG = str(Path(sys.executable).parent / "taizhang")
# Staff personas of the demo district: (username, may open the dashboard).
STAFF = [
    ("lingdao_lzq", True),
    ("paiqian_lzq2", True),
    ("chuzhi_lzq_yjj", False),
    ("paiqian_wmjd", True),
    ("chuzhi_wmjd_bsc", False),
]
SETUP = """
import json
from taizhang.cases.models import Case
from taizhang.insight.models import HotSpotMember
from taizhang.org.models import User
from taizhang.web.api.auth import issue_token
demands = Case.objects.filter(mechanism="demand").select_related("division").order_by("pk")[:300]
units = Case.objects.filter(mechanism="demand", unit__isnull=False).values_list("unit__code", flat=True)
print(json.dumps({
    "intake_token": issue_token(User.objects.get(username="shouli_lzq2"), "bench"),
    "dispatch_token": issue_token(User.objects.get(username="paiqian_lzq2"), "bench"),
    "inspector_token": issue_token(User.objects.get(username="jiwei_lzq"), "bench"),
    "resident_tokens": [issue_token(u, "bench") for u in User.objects.filter(username__startswith="jumin")],
    "hot_cases": list(HotSpotMember.objects.filter(case__state_kind__in=["open", "waiting"])
                      .order_by("-hotspot__count", "case_id").values_list("case__number", flat=True)[:8]),
    "units": sorted(set(units)),
    "demands": [{"title": c.title, "description": c.description, "address": c.address,
                 "division": c.division.code, "category": c.category} for c in demands],
}, ensure_ascii=False))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_url: str, tmp: Path, args: argparse.Namespace) -> dict[str, str]:
    """The production configuration, as an operator would set it behind nginx."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "taizhang.settings",
        "TAIZHANG_ENV": "production",
        "TAIZHANG_DEBUG": "0",
        "TAIZHANG_SECRET_KEY": secrets.token_urlsafe(50),
        "TAIZHANG_ALLOWED_HOSTS": "127.0.0.1",
        "TAIZHANG_TRUSTED_PROXIES": "127.0.0.1",  # the clients act as the proxy: X-Forwarded-Proto/-For
        "TAIZHANG_TRUSTED_PROXY_HEADER": "X-Forwarded-For",
        "TAIZHANG_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
        "DATABASE_URL": database_url,
        "TAIZHANG_STATIC_ROOT": str(tmp / "static"),
        "TAIZHANG_MEDIA_ROOT": str(tmp / "media"),
        "TAIZHANG_MODEL_DIR": str(tmp / "models"),
        "TAIZHANG_CALENDAR_UNKNOWN_YEAR": "weekends",  # the demo spans today, maybe into next year
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prometheus"),
    }
    if args.workers:
        env["TAIZHANG_WEB_WORKERS"] = str(args.workers)
    if args.threads:
        env["TAIZHANG_WEB_THREADS"] = str(args.threads)
    return env


def run(cmd: list[str], env: dict[str, str], what: str) -> str:
    print(f"  {what} …", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


def setup_data(env: dict[str, str]) -> dict[str, Any]:
    """Tokens, units and demo demands to repeat, read from the bench database."""
    out = run([TAIZHANG, "shell", "-c", SETUP], env, "tokens and demo demands")
    return json.loads(out.strip().splitlines()[-1])


def wait_ready(port: int, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}")
        status, body, _ = Session("127.0.0.1", port).request("GET", "/readyz")
        if status == 200:
            return
        time.sleep(0.5)
    raise RuntimeError(f"/readyz not ready after {seconds:.0f} s: {body[:300]!r}")


def make_sessions(port: int, clients: int, data: dict[str, Any]) -> list[tuple]:
    """Half staff, three in ten API machines, two in ten portal residents; staff signed in already."""
    sessions = []
    api_numbers = None
    for i in range(clients):
        session = Session("127.0.0.1", port)
        slot = i % 10
        if slot < 5:
            username, dashboard = STAFF[(i // 10 * 5 + slot) % len(STAFF)]
            login(session, username)
            ctx = {"numbers": visible_numbers(session), "dashboard": dashboard}
            sessions.append((session, staff_action, ctx))
        elif slot < 8:
            session.headers["Authorization"] = f"Bearer {data['dispatch_token']}"
            api_numbers = api_numbers or visible_numbers(session)
            sessions.append((session, api_action, {**data, "numbers": api_numbers}))
        else:
            sessions.append((session, portal_action, data))
    return sessions


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def row(name: str, samples: list[Sample], seconds: float) -> list[str]:
    lat = sorted(s.seconds * 1000 for s in samples)
    c4 = sum(400 <= s.status < 500 for s in samples)
    c5 = sum(s.status >= 500 or s.status == 0 for s in samples)
    rate = f"{len(samples) / seconds:.1f}" if seconds else "—"
    p = [f"{percentile(lat, q):.0f}" for q in (50, 95, 99)]
    return [name, str(len(samples)), rate, *p, str(c4), str(c5)]


def report(phases: dict[str, tuple[list[Sample], float]]) -> int:
    """Print the tables; returns the number of 5xx and connection errors."""
    headers = ["phase / request", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "4xx", "5xx+err"]
    rows = [row(name, samples, secs) for name, (samples, secs) in phases.items()]
    print()
    print_table(headers, rows)
    mix, seconds = phases["mix"]
    kinds = sorted({s.kind for s in mix})
    print()
    print_table(headers, [row(k, [s for s in mix if s.kind == k], seconds) for k in kinds])
    statuses: dict[str, int] = {}
    for s in mix:
        if s.status >= 400 or s.status == 0:
            statuses[f"{s.kind} {s.status}"] = statuses.get(f"{s.kind} {s.status}", 0) + 1
    if statuses:
        print(
            "\nnon-2xx/3xx answers of the mix: " + ", ".join(f"{k} ×{v}" for k, v in sorted(statuses.items()))
        )
    return sum(s.status >= 500 or s.status == 0 for samples, _ in phases.values() for s in samples)


def measure(port: int, args: argparse.Namespace, data: dict[str, Any]) -> int:
    print(f"  signing in {args.clients} clients …", file=sys.stderr, flush=True)
    sessions = make_sessions(port, args.clients, data)
    print(f"  the mix: {args.clients} clients for {args.duration:.0f} s …", file=sys.stderr, flush=True)
    mix = run_clients(sessions, args.duration)
    for s, *_ in sessions:
        s.close()
    baseline = [(Session("127.0.0.1", port), healthz_action, {}) for _ in range(args.clients)]
    print(
        f"  /healthz: {args.clients} clients for {args.baseline_duration:.0f} s …",
        file=sys.stderr,
        flush=True,
    )
    health = run_clients(baseline, args.baseline_duration)
    return report({"mix": mix, "/healthz": health})


def serve_and_measure(database_url: str, args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="taizhang-load-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "prometheus").mkdir()
        env = server_env(database_url, tmp, args)
        run([TAIZHANG, "migrate", "--noinput"], env, "migrate")
        run([TAIZHANG, "demo", "--if-empty"], env, "taizhang demo (about a minute)")
        data = setup_data(env)
        port = free_port()
        log_path = tmp / "server.log"
        with open(log_path, "w") as log:
            server = subprocess.Popen(
                [TAIZHANG, "serve", "--bind", f"127.0.0.1:{port}"],
                env=env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            # The scheduler runs beside it, as in production: its passes write to the same cases.
            scheduler = subprocess.Popen(
                [TAIZHANG, "worker", "--interval", "5"],
                env=env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                print("  taizhang serve (collectstatic, checks, gunicorn) …", file=sys.stderr, flush=True)
                wait_ready(port, server, 180)
                errors = measure(port, args, data)
            finally:
                for proc in (server, scheduler):
                    proc.send_signal(signal.SIGTERM)
                for proc in (server, scheduler):
                    try:
                        proc.wait(timeout=40)
                    except subprocess.TimeoutExpired:
                        proc.kill()
        lines = log_path.read_text(errors="replace").splitlines()
        bad = [ln for ln in lines if '"levelname": "ERROR"' in ln or '"level": "ERROR"' in ln]
        print(f"\nserver log: {len(lines)} lines, {len(bad)} at ERROR")
        for line in bad[:5]:
            print("  " + line[:400])
        return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--baseline-duration", type=float, default=20)
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: from the CPUs)")
    parser.add_argument("--threads", type=int, default=0, help="threads per worker (default: the conf's)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_ADMIN_URL)
    parser.add_argument("--url", help="measure a server already running here (needs --database-url)")
    parser.add_argument("--database-url", help="its database, with the demo loaded (for tokens)")
    args = parser.parse_args()
    try:
        if args.url:
            if not args.database_url:
                parser.error("--url needs --database-url")
            env = {**os.environ, "DATABASE_URL": args.database_url}
            errors = measure(urlsplit(args.url).port or 80, args, setup_data(env))
        else:
            with throwaway_database("postgres", args.postgres_url) as url:
                print(f"bench database {redact(url)}", file=sys.stderr)
                errors = serve_and_measure(url, args)
    except KeyboardInterrupt:
        sys.exit("interrupted; the bench database is removed")
    except RuntimeError as exc:
        sys.exit(f"error: {exc}")
    if errors:
        sys.exit(f"FAILED: {errors} answers were 5xx or connection errors")


if __name__ == "__main__":
    main()
