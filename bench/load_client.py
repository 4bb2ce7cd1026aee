"""The clients of bench/load.py: keep-alive HTTP sessions that act as staff, API machines and residents.

Each client is a thread with its own ``http.client`` connection and cookie jar. Staff sign in through
the login form once before the clock starts; API clients carry a bearer token; portal clients are
anonymous residents, each send coming from its own address (``X-Forwarded-For``, honoured because the
bench server trusts 127.0.0.1 as its proxy, as production trusts nginx). Every request is recorded
with its kind, status and latency; a connection error counts as status 0 (an error, like a 5xx).
"""

from __future__ import annotations

import http.client
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

KEY_INPUT = re.compile(r'name="idempotency_key" value="([^"]+)"')
PASSWORD = "taizhang2026"  # every demo account's password (taizhang demo)


@dataclass
class Sample:
    kind: str
    status: int
    seconds: float


@dataclass
class Session:
    """One keep-alive connection with its cookies; ``request`` never raises for HTTP or socket errors."""

    host: str
    port: int
    # As nginx does: the request came over HTTPS (the server trusts 127.0.0.1 as its proxy).
    headers: dict[str, str] = field(default_factory=lambda: {"X-Forwarded-Proto": "https"})
    cookies: dict[str, str] = field(default_factory=dict)
    conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, http.client.HTTPResponse | None]:
        """(status, body, response); status 0 when the connection failed."""
        sent = {**self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=sent)
                resp = self.conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                # A keep-alive connection the server closed while idle: one retry on a fresh one.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    return 0, str(exc).encode(), None
                continue
            except (OSError, http.client.HTTPException) as exc:
                self.conn.close()
                self.conn = None
                return 0, str(exc).encode(), None
            for header in resp.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            if resp.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return resp.status, data, resp
        raise AssertionError("unreachable")

    @property
    def origin(self) -> str:
        """What the browser is on: HTTPS at this host, as the proxy tells the server (X-Forwarded-Proto)."""
        return f"https://{self.host}:{self.port}"

    def form(self, path: str, fields: dict[str, str]) -> tuple[int, bytes, Any]:
        """POST a form as a browser does from the same page (CSRF token from the cookie, Referer)."""
        body = urlencode({**fields, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Referer": self.origin + path}
        return self.request("POST", path, body, headers)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def login(session: Session, username: str) -> None:
    """Sign in through the login form (untimed set-up); raises when it does not end in a redirect."""
    status, _, _ = session.request("GET", "/login/")  # sets the CSRF cookie
    if status != 200 or "csrftoken" not in session.cookies:
        raise RuntimeError(f"GET /login/ answered {status}")
    status, _, _ = session.form("/login/", {"username": username, "password": PASSWORD})
    if status != 302 or "sessionid" not in session.cookies:
        raise RuntimeError(f"signing in as {username} answered {status}")


def visible_numbers(session: Session) -> list[str]:
    """Case numbers the session's person may see (through the API with the session)."""
    status, body, _ = session.request("GET", "/api/v1/cases?limit=100")
    if status != 200:
        raise RuntimeError(f"GET /api/v1/cases answered {status}")
    return [c["number"] for c in json.loads(body)["items"]]


# --- what each kind of client does ----------------------------------------------------------------------

Action = Callable[[Session, random.Random, dict[str, Any]], list[tuple[str, int, float]]]


def timed(session: Session, kind: str, method: str, path: str, **kw: Any) -> tuple[tuple, bytes]:
    start = time.perf_counter()
    status, body, _ = session.request(method, path, **kw)
    return (kind, status, time.perf_counter() - start), body


def staff_action(session: Session, rnd: random.Random, ctx: dict[str, Any]) -> list[tuple]:
    """A page a member of staff opens: 工作台, the case list (some filtered), a case, the dashboard…"""
    pages = [
        ("page:workbench", "/workbench/", 3),
        ("page:cases", "/cases/", 2),
        ("page:cases?overdue", "/cases/?overdue=1", 1),
        ("page:case", f"/cases/{rnd.choice(ctx['numbers'])}/", 4),
        ("page:hotspots", "/hotspots/", 1),
    ]
    if ctx["dashboard"]:
        pages.append(("page:dashboard", "/dashboard/", 1))
    kind, path, _ = rnd.choices(pages, weights=[w for *_, w in pages])[0]
    sample, _ = timed(session, kind, "GET", path)
    return [sample]


def api_action(session: Session, rnd: random.Random, ctx: dict[str, Any]) -> list[tuple]:
    """A machine client: lists and details, hot spots, and now and then a new demand it dispatches."""
    roll = rnd.random()
    if roll < 0.35:
        return [timed(session, "api:list", "GET", "/api/v1/cases?limit=20")[0]]
    if roll < 0.70:
        return [timed(session, "api:detail", "GET", f"/api/v1/cases/{rnd.choice(ctx['numbers'])}")[0]]
    if roll < 0.78:
        return [timed(session, "api:hotspots", "GET", "/api/v1/hotspots?days=30")[0]]
    if roll < 0.88:
        return flag_hot_case(session, rnd, ctx)
    return create_and_dispatch(session, rnd, ctx)


def flag_hot_case(session: Session, rnd: random.Random, ctx: dict[str, Any]) -> list[tuple]:
    """An inspector's 监督标记 on one of a few cases everybody acts on: racing writes on one row, where
    the optimistic lock must answer 409 to the loser, never 500."""
    move = {"code": "flag", "opinion": "请加快办理进度"}
    headers = {"Authorization": f"Bearer {ctx['inspector_token']}", "Content-Type": "application/json"}
    path = f"/api/v1/cases/{rnd.choice(ctx['hot_cases'])}/transitions"
    return [timed(session, "api:flag", "POST", path, body=json.dumps(move).encode(), headers=headers)[0]]


def create_and_dispatch(session: Session, rnd: random.Random, ctx: dict[str, Any]) -> list[tuple]:
    """A 12345 operator files a demand seen before (so it joins its hot spot) and a dispatcher sends it on."""
    demand = rnd.choice(ctx["demands"])
    payload = {"mechanism": "demand", "channel": "hotline", **demand}
    headers = {
        "Authorization": f"Bearer {ctx['intake_token']}",
        "Content-Type": "application/json",
        "Idempotency-Key": uuid.uuid4().hex,
    }
    body = json.dumps(payload, ensure_ascii=False).encode()
    created, data = timed(session, "api:create", "POST", "/api/v1/cases", body=body, headers=headers)
    samples = [created]
    if created[1] != 201:
        return samples
    case = json.loads(data)
    unit = (case.get("suggestion") or {}).get("unit") or rnd.choice(ctx["units"])
    move = {"code": "dispatch", "params": {"unit": unit}, "expected_version": case["version"]}
    headers = {"Authorization": f"Bearer {ctx['dispatch_token']}", "Content-Type": "application/json"}
    path = f"/api/v1/cases/{case['number']}/transitions"
    samples.append(
        timed(session, "api:dispatch", "POST", path, body=json.dumps(move).encode(), headers=headers)[0]
    )
    return samples


def portal_action(session: Session, rnd: random.Random, ctx: dict[str, Any]) -> list[tuple]:
    """A resident without an account: the portal, the public ledger, and now and then a demand sent."""
    session.headers["X-Forwarded-For"] = (
        f"10.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
    )
    roll = rnd.random()
    if roll < 0.15:
        return metoo(session, rnd, ctx)
    if roll < 0.35:
        return [timed(session, "portal:home", "GET", "/portal/")[0]]
    if roll < 0.80:
        return [timed(session, "portal:ledger", "GET", "/portal/ledger/")[0]]
    shown, body = timed(session, "portal:form", "GET", "/portal/new/?mechanism=demand")
    match = KEY_INPUT.search(body.decode("utf-8", "replace"))
    if shown[1] != 200 or not match:
        return [shown]
    demand = rnd.choice(ctx["demands"])
    fields = {
        "mechanism": "demand",
        "idempotency_key": match.group(1),
        "category": demand["category"],
        "title": demand["title"],
        "division": demand["division"],
        "description": demand["description"],
        "address": demand["address"],
        "contact_name": "王女士",
    }
    start = time.perf_counter()
    status, _, _ = session.form("/portal/new/", fields)
    return [shown, ("portal:send", status, time.perf_counter() - start)]


def metoo(session: Session, rnd: random.Random, ctx: dict[str, Any]) -> list[tuple]:
    """A signed-up resident's 我也遇到 on an open demand of a hot spot, which new demands are joining."""
    headers = {"Authorization": f"Bearer {rnd.choice(ctx['resident_tokens'])}"}
    path = f"/api/v1/cases/{rnd.choice(ctx['hot_cases'])}/metoo"
    return [timed(session, "api:metoo", "POST", path, headers=headers)[0]]


def healthz_action(session: Session, rnd: random.Random, ctx: dict[str, Any]) -> list[tuple]:
    return [timed(session, "healthz", "GET", "/healthz")[0]]


def run_clients(
    sessions: list[tuple[Session, Action, dict[str, Any]]], seconds: float, seed: int = 1
) -> tuple[list[Sample], float]:
    """Run every session's action in a loop on its own thread for ``seconds``; (samples, wall seconds)."""
    results: list[list[Sample]] = [[] for _ in sessions]
    start_gate = threading.Barrier(len(sessions) + 1)
    deadline: list[float] = [0.0]

    def loop(i: int) -> None:
        session, action, ctx = sessions[i]
        rnd = random.Random(seed * 1000 + i)
        start_gate.wait()
        while time.perf_counter() < deadline[0]:
            results[i].extend(Sample(*s) for s in action(session, rnd, ctx))

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(len(sessions))]
    for t in threads:
        t.start()
    begun = time.perf_counter()
    deadline[0] = begun + seconds
    start_gate.wait()
    for t in threads:
        t.join()
    return [s for r in results for s in r], time.perf_counter() - begun
