"""HTTP helpers of the permission matrix: signed-in clients, the addresses of case endpoints, what an
answer says (xlsx read cell by cell), and requests whose writes are rolled back at once."""

from __future__ import annotations

import io
import re

from django.conf import settings as django_settings
from django.db import transaction
from django.test import Client

from .matrix import sees

ANON = None  # nobody signed in
API_AUTH_FAILED = 401


def everyone(mx):
    """Every persona, an administrator and nobody (None)."""
    return [*mx.personas, "admin", ANON]


def name_of(who) -> str:
    return "anon" if who is ANON else who if isinstance(who, str) else who.key


def client_for(mx, who) -> Client:
    """The persona's client, signed in once for the module (its session is part of the sample)."""
    return mx.clients[name_of(who)]


def login(mx, who) -> Client:
    client = Client()
    if who == "admin":
        client.force_login(mx.admin)
    elif who is not ANON:
        client.force_login(who.user)
    return client


def sees_as(mx, who, case, rows=None) -> bool:
    if who is ANON:
        return False
    if who == "admin":
        return True
    return sees(who, case, rows)


def is_api(key: str) -> bool:
    return key.startswith(("GET /api/", "POST /api/"))


def case_url(key: str, case) -> str:
    """The address of a case endpoint for one case."""
    if is_api(key):
        path = key.split(" ", 1)[1]
        return path.replace("{ref}", case.number).replace("{kind}", "receipt")
    if key.startswith("open311/"):
        return f"/open311/v2/requests/{case.number}.json"
    return "/" + re.sub(r"<str:(ref|number)>", case.number, key)


def list_url(key: str) -> str:
    """The address of a list endpoint (Open311's routes are regular expressions: their JSON form)."""
    if key.startswith("open311/"):
        name = key.split("^", 1)[1].split("\\.", 1)[0]  # "requests" of ^requests\.(?P<fmt>xml|json)$
        return f"/open311/v2/{name}.json"
    return "/" + key


def body_text(response) -> str:
    """What a response says, as text to look for case numbers and titles in (xlsx read cell by cell)."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response.get("Content-Type", "")
    if "spreadsheet" in kind:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(
            str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v
        )
    if "pdf" in kind:
        return ""  # figures only; its status is checked
    return content.decode("utf-8", "replace")


def named(text: str, case) -> bool:
    return case.number in text or case.title in text


def login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(django_settings.LOGIN_URL)


def check(problems: list[str], ok: bool, who, what: str, response=None) -> None:
    if not ok:
        detail = ""
        if response is not None:
            detail = f" → {response.status_code} {body_text(response)[:160]!r}"
        problems.append(f"{name_of(who)}: {what}{detail}")


def rolled_back(call):
    """A request whose writes are undone at once, so the sample stays as built."""
    with transaction.atomic():
        response = call()
        transaction.set_rollback(True)
    return response
