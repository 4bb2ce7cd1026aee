"""User text is never HTML, and every page carries a strict Content-Security-Policy.

Server side: a crawl of the pages staff, residents and the administrator reach — with cases whose title and
address are markup — checks on each HTML page the CSP header (no 'unsafe-inline' or 'unsafe-eval' for
scripts) and the markup itself (no inline script, no on*= handler, no javascript: link); the templates are
scanned the same way. The browser side (the tooltip, the policy enforced) is tests/browser/test_csp_browser.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from taizhang.org.models import User
from tests.cases.helpers import report, to_rectifying

XSS_TITLE = "<script>window.__xss=1</script>"
XSS_ADDRESS = "<img src=x onerror=window.__xss=1>"
TEMPLATES = Path(__file__).resolve().parents[2] / "taizhang"
# Not pages: downloads, sign-out and the language switch (a POST), the PDF (slow, not HTML).
SKIP = re.compile(r"^/(logout|i18n)/|\.(pdf|xlsx)$|/export|/media/|/static/")
MAX_PAGES = 120


def policy_of(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} sends no Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_strict(policy: dict[str, list[str]], where: str) -> None:
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts is not None, where
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, where
    assert "*" not in scripts and "data:" not in scripts, where
    assert policy.get("default-src") == ["'self'"], where
    assert policy.get("object-src") == ["'none'"], where
    assert policy.get("base-uri") == ["'self'"], where
    assert policy.get("frame-ancestors") == ["'none'"], where
    assert policy.get("form-action") == ["'self'"], where
    assert policy.get("connect-src") == ["'self'"], where


class Markup(HTMLParser):
    """Collects what a strict policy would refuse to run, and the page's own links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        named = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "script" and not named.get("src") and named.get("type") != "application/json":
            self.problems.append(f"inline <script {named}>")
        if tag == "a" and named.get("href"):
            self.links.append(named["href"])


def crawl(client, starts: list[str]) -> dict[str, int]:
    """GET pages from `starts` on, following same-site links (one URL per path, one path per kind of
    admin object); returns path -> status."""
    seen: dict[str, int] = {}
    kinds: set[str] = set()
    queue = list(starts)
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        path = urlsplit(url).path
        kind = re.sub(r"/\d+/", "/N/", path)
        if kind in kinds or SKIP.search(path):
            continue
        kinds.add(kind)
        response = client.get(url)
        seen[path] = response.status_code
        assert_strict(policy_of(response), url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        markup = Markup()
        markup.feed(response.content.decode())
        assert markup.problems == [], f"{url}: {markup.problems}"
        for href in markup.links:
            target = urljoin(url, href)
            if target.startswith("/") and not target.startswith("//"):
                queue.append(target)
    return seen


@pytest.fixture
def marked_cases(world):
    """Cases whose text is markup: a hazard under way (on maps and lists), a new one, a portal demand."""
    to_rectifying(world, report(world, title=XSS_TITLE, address=XSS_ADDRESS, lat="36.19", lon="113.11"))
    report(world, title=XSS_ADDRESS, address="", lat="36.191", lon="113.111")
    return world


STAFF_STARTS = ["/", "/workbench/", "/cases/", "/dashboard/", "/reports/monthly/", "/replies/", "/hotspots/"]
PUBLIC_STARTS = ["/", "/portal/", "/portal/ledger/", "/portal/new/", "/portal/track/", "/login/"]


@pytest.mark.parametrize("persona", ["leader", "dispatcher", "handler", "grid_worker", "inspector"])
def test_every_staff_page_sends_a_strict_policy_and_no_inline_script(client, marked_cases, persona):
    client.force_login(getattr(marked_cases, persona))
    seen = crawl(client, [*STAFF_STARTS, "/mechanisms/", "/report/new/"])
    assert any(re.match(r"^/cases/[A-Z]+-\d{4}-\d+/$", p) for p in seen), seen  # a case page was read
    assert len(seen) > 10


def test_every_public_page_sends_a_strict_policy(client, marked_cases):
    seen = crawl(client, PUBLIC_STARTS)
    assert "/portal/ledger/" in seen and "/login/" in seen


def test_the_admin_and_the_api_docs_send_the_policy_too(client, marked_cases):
    admin = User.objects.create_superuser("root", password="pw-root")
    client.force_login(admin)
    seen = crawl(client, ["/admin/", "/admin/org/user/add/", "/api/v1/docs"])
    assert seen["/api/v1/docs"] == 200 and seen["/admin/"] == 200
    docs = client.get("/api/v1/docs").content.decode()
    assert "cdn." not in docs  # Swagger UI from our own static files, not a CDN
    for response in (client.get("/api/v1/cases"), client.get("/open311/v2/discovery.json")):
        assert_strict(policy_of(response), response.request["PATH_INFO"])


def test_the_markup_in_case_text_is_shown_as_text(client, marked_cases):
    client.force_login(marked_cases.leader)
    for url in ("/cases/", "/dashboard/"):
        body = client.get(url).content.decode()
        assert XSS_TITLE not in body and XSS_ADDRESS not in body
    body = client.get("/cases/?q=script").content.decode()
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in body


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I | re.S)
SCRIPT_URL = re.compile(r"javascript:", re.I)


def test_no_template_has_an_inline_script_or_an_event_handler():
    found = []
    for path in TEMPLATES.rglob("templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, HANDLER, SCRIPT_URL):
            found += [f"{path.relative_to(TEMPLATES)}: {m.group(0)[:80]}" for m in pattern.finditer(text)]
    assert found == []


def test_htmx_runs_without_eval():
    base = (TEMPLATES / "web/templates/web/base.html").read_text(encoding="utf-8")
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', base).group(1)
    assert '"allowEval": false' in config and '"allowScriptTags": false' in config
    for path in TEMPLATES.rglob("templates/**/*.html"):
        assert not re.search(r"hx-on|hx-vars|js:", path.read_text(encoding="utf-8")), path


def image_sources(env: dict[str, str]) -> list[str]:
    """The img-src of the policy that start-up builds from these environment variables."""
    code = "from taizhang import settings as s; print(' '.join(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']))"
    full = {k: v for k, v in os.environ.items() if not k.startswith("TAIZHANG_MAP")} | env
    proc = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_images_come_from_the_site_and_the_configured_tile_server_only():
    assert image_sources({}) == ["'self'", "data:", "blob:"]
    assert image_sources({"TAIZHANG_MAP_TILES": "https://tiles.example.cn:8443/osm/{z}/{x}/{y}.png"}) == [
        "'self'",
        "data:",
        "blob:",
        "https://tiles.example.cn:8443",
    ]
    # Leaflet fills {s} with a, b or c: exactly those three hosts
    assert image_sources({"TAIZHANG_MAP_TILES": "https://webrd0{s}.example.cn/{z}/{x}/{y}"})[3:] == [
        "https://webrd0a.example.cn",
        "https://webrd0b.example.cn",
        "https://webrd0c.example.cn",
    ]
    assert image_sources({"TAIZHANG_MAP_TILES": "/tiles/{z}/{x}/{y}.png"}) == ["'self'", "data:", "blob:"]
