"""The English catalogues: complete, compiled, covering every marked string, and switched to from the
default Chinese with the language form (POST /i18n/setlang/).

The msgids are the Chinese UI text. When a page gains a `{% translate "…" %}` or `gettext("…")`, update
the catalogue with `make messages`, translate the new entries and compile again (`make messages` does
both steps; it needs GNU gettext). Mechanism data (state and transition names) stays Chinese in English.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

from taizhang.org.roles import Role, role_label
from tests.cases.helpers import report

ROOT = Path(__file__).resolve().parents[2] / "taizhang"
CATALOGUES = sorted(ROOT.glob("*/locale/en/LC_MESSAGES/django.po"))
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")


@dataclass
class Entry:
    msgid: str = ""
    plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    context: str | None = None
    flags: set[str] = field(default_factory=set)
    line: int = 0


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po file (one block per entry, blank lines between); header and #~ skipped."""
    entries = []
    text = path.read_text(encoding="utf-8")
    offset = 1
    for block in text.split("\n\n"):
        entry, target = Entry(line=offset), None
        offset += block.count("\n") + 2
        for raw in block.strip().splitlines():
            if raw.startswith("#,"):
                entry.flags |= {flag.strip() for flag in raw[2:].split(",")}
                continue
            if raw.startswith("#"):
                continue
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])? (".*")$', raw)
            if match:
                target = (match.group(1), int(match.group(2) or 0))
                if target[0] == "msgstr":
                    entry.msgstr.append("")
                elif target[0] == "msgid_plural":
                    entry.plural = ""
                elif target[0] == "msgctxt":
                    entry.context = ""
                value = match.group(3)
            elif raw.startswith('"') and target is not None:
                value = raw
            else:
                raise AssertionError(f"{path}: unreadable line {raw!r}")
            value = ast.literal_eval(value)
            if target[0] == "msgid":
                entry.msgid += value
            elif target[0] == "msgid_plural":
                entry.plural += value
            elif target[0] == "msgctxt":
                entry.context += value
            else:
                entry.msgstr[-1] += value
        if entry.msgid:
            entries.append(entry)
    return entries


def where(path: Path, entry: Entry) -> str:
    return f"{path.relative_to(ROOT.parent)}:{entry.line} {entry.msgid!r}"


def test_there_are_catalogues_for_the_web_and_the_portal():
    apps = {path.parts[-5] for path in CATALOGUES}
    assert {"web", "intake"} <= apps
    web = parse_po(ROOT / "web/locale/en/LC_MESSAGES/django.po")
    assert len(web) > 300
    assert {e.msgid: e.msgstr for e in web}["工作台"] == ["Workbench"]


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_every_entry_is_translated_and_none_is_fuzzy(path):
    entries = parse_po(path)
    assert entries
    untranslated = [where(path, e) for e in entries if not e.msgstr or not all(s.strip() for s in e.msgstr)]
    fuzzy = [where(path, e) for e in entries if "fuzzy" in e.flags]
    plurals = [where(path, e) for e in entries if e.plural is not None and len(e.msgstr) != 2]
    assert untranslated == [] and fuzzy == [] and plurals == []
    header = path.read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert "#, fuzzy" not in header and '"Language: en\\n"' in header


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_translations_keep_the_placeholders(path):
    wrong = []
    for entry in parse_po(path):
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        for text in entry.msgstr:
            if sorted(PLACEHOLDER.findall(text)) != wanted:
                wrong.append((where(path, entry), text))
    assert wrong == []


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_the_compiled_catalogue_matches_the_po(path):
    mo = path.with_suffix(".mo")
    assert mo.exists(), f"{mo} missing: run `make messages`"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in parse_po(path):
        msgid = entry.msgid if entry.context is None else f"{entry.context}\x04{entry.msgid}"
        if entry.plural is None:
            got = [compiled.gettext(msgid)]
        else:
            got = [compiled.ngettext(msgid, entry.plural, 1), compiled.ngettext(msgid, entry.plural, 2)]
        if got != entry.msgstr:
            stale.append((where(path, entry), got, entry.msgstr))
    assert stale == [], "the .mo is older than the .po: run `make messages`"


# Marked strings the scan below can read: one literal in {% translate %} or in a gettext call.
TEMPLATE_MARK = re.compile(
    r"""\{%\s*(?:translate|trans)\s+(?:"([^"]*)"|'([^']*)')\s*(?:noop\s*)?(?:as\s+\w+\s*)?%\}"""
)
PYTHON_MARK = re.compile(
    r"""(?<![\w.])(?:_|gettext|gettext_lazy|gettext_noop)\(\s*(?:"([^"\\]*)"|'([^'\\]*)')\s*\)"""
)


def marked_strings() -> dict[str, str]:
    """Every msgid marked in the code base's templates and Python files -> the first file marking it."""
    found: dict[str, str] = {}
    for path in sorted(ROOT.rglob("*")):
        if (
            path.suffix not in (".html", ".txt", ".py")
            or "migrations" in path.parts
            or "locale" in path.parts
        ):
            continue
        pattern = PYTHON_MARK if path.suffix == ".py" else TEMPLATE_MARK
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(match.group(1) or match.group(2) or "", str(path.relative_to(ROOT.parent)))
    found.pop("", None)
    return found


def test_every_marked_string_is_in_an_english_catalogue():
    known = {e.msgid for path in CATALOGUES for e in parse_po(path)}
    marked = marked_strings()
    assert "工作台" in marked and "登录台账" in marked  # the scan reads both kinds of file
    missing = {msgid: source for msgid, source in marked.items() if msgid not in known}
    assert missing == {}, "new UI strings: run `make messages` and translate them"


def h1(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert match, "the page has no <h1>"
    return re.sub(r"<[^>]+>|\s+", " ", match.group(1)).strip()


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


STAFF_PAGES = [
    ("/workbench/", "工作台", "Workbench"),
    ("/cases/", "案件", "Cases"),
    ("/dashboard/", "驾驶舱", "Dashboard"),
]
PUBLIC_PAGES = [
    ("/portal/", "群众服务", "Resident services"),
    ("/login/", "登录台账", "Sign in to Ledger"),
]


def get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def switch_to(client, language: str, back: str) -> None:
    response = client.post("/i18n/setlang/", {"language": language, "next": back})
    assert response.status_code == 302 and response["Location"] == back


def test_staff_pages_default_to_chinese_and_switch_to_english(client, world):
    client.force_login(world.leader)
    for url, chinese, _english in STAFF_PAGES:
        html = get(client, url)
        assert html_lang(html) == "zh-CN" and h1(html) == chinese, url
    switch_to(client, "en", "/workbench/")
    for url, _chinese, english in STAFF_PAGES:
        html = get(client, url)
        assert html_lang(html) == "en" and h1(html) == english, url
        assert ">Mechanisms</a>" in html and "机制</a>" not in html  # the menu follows
    switch_to(client, "zh-hans", "/cases/")
    assert h1(get(client, "/cases/")) == "案件"


def test_public_pages_default_to_chinese_and_switch_to_english(client, db):
    for url, chinese, _english in PUBLIC_PAGES:
        html = get(client, url)
        assert html_lang(html) == "zh-CN" and h1(html) == chinese, url
    switch_to(client, "en", "/portal/")
    for url, _chinese, english in PUBLIC_PAGES:
        html = get(client, url)
        assert html_lang(html) == "en" and h1(html) == english, url
    assert "Public service ledger" in get(client, "/portal/")


def test_an_unknown_language_keeps_chinese(client, db):
    client.post("/i18n/setlang/", {"language": "fr", "next": "/login/"})
    html = get(client, "/login/")
    assert html_lang(html) == "zh-CN" and h1(html) == "登录台账"


def test_the_clock_roles_and_similar_case_reasons_follow_the_language(client, world):
    with translation.override("en"):
        assert role_label("dispatcher") == "Dispatcher" and role_label("system") == "System"
        assert str(Role.GRID_WORKER.label) == "Grid worker"
    assert role_label("dispatcher") == "派遣员" and role_label("co_handler") == "协办人"
    case = report(world, title="楼道堆放杂物")
    client.force_login(world.dispatcher)
    assert "网格员" in get(client, f"/cases/{case.number}/")
    switch_to(client, "en", f"/cases/{case.number}/")
    html = get(client, f"/cases/{case.number}/")
    assert "Grid worker" in html and "网格员" not in html
    assert re.search(r"(left|overdue by|due today|due now)</", html), "the clock is in English"
