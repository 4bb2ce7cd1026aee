"""Tracking codes (查询码): the case number, which is public, and a random secret only the sender gets.

`SQ-2026-000123-7KQ9M2XT4P`: ten characters from 31 that cannot be mistaken for one another (no 0/O,
1/I/L), about 50 bits, so guessing one case's code is hopeless; only the secret's SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from django.conf import settings

from taizhang.cases.models import Case
from taizhang.clock.now import now as clock_now
from taizhang.errors import ActionError, FieldError, invalid

from ..models import PortalTicket

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SECRET_LENGTH = 10
CODE_RE = re.compile(rf"^([A-Z]{{1,6}}-\d{{4}}-\d{{1,9}})-?([{ALPHABET}]{{{SECRET_LENGTH}}})$")
EXAMPLE = "SQ-2026-000123-7KQ9M2XT4P"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def client_key(address: str) -> str:
    """A keyed hash of who sent a form (an IP address or `user:<id>`): counted, never stored in clear."""
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()[:64]


def issue_ticket(case: Case, client: str, anonymous: bool) -> str:
    """Store a new ticket for the case and return its code (the only time the secret is known)."""
    secret = "".join(secrets.choice(ALPHABET) for _ in range(SECRET_LENGTH))
    PortalTicket.objects.create(
        case=case, digest=digest(secret), client=client, anonymous=anonymous, created_at=clock_now()
    )
    return f"{case.number}-{secret}"


def normalise(code: str) -> str:
    """Upper case without blanks: what a person types from a note or an SMS."""
    return re.sub(r"\s+", "", code or "").upper()


def parse_code(code: str) -> tuple[str, str]:
    """(case number, secret) of a code; 422 with a clear message when it is not shaped like one."""
    text = normalise(code)
    if not text:
        raise invalid([FieldError("code", "required", "请输入查询码")], "请输入查询码")
    match = CODE_RE.match(text)
    if match is None:
        message = f"查询码格式不对：应为案件编号加10位校验码，例如 {EXAMPLE}"
        raise invalid([FieldError("code", "invalid_format", message)], message)
    return match.group(1), match.group(2)


def case_by_code(code: str) -> tuple[Case, PortalTicket]:
    """The case a tracking code opens; 404 (the same for an unknown number and a wrong secret)."""
    number, secret = parse_code(code)
    ticket = (
        PortalTicket.objects.select_related("case__division", "case__unit")
        .filter(digest=digest(secret), case__number=number)
        .first()
    )
    if ticket is None:
        message = (
            "查询码不正确：没有与之对应的诉求，请核对编号和校验码（区分不了的字母已排除，不含 0、O、1、I、L）"
        )
        raise ActionError("unknown_code", message, 404, [FieldError("code", "unknown_code", message)])
    return ticket.case, ticket
