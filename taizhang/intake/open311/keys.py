"""Open311 keys and request tokens: keys of their own kind, stored hashed; tokens random per request.

An Open311 key (`o311_…`) is accepted only as the `api_key` of /open311/v2/ (form or query parameter,
or the `X-API-Key` header); the API's bearer tokens (`tz_…`) are refused there with a message saying
which kind of key is needed, and an Open311 key is no bearer token for /api/v1 (TokenAuth only knows
ApiToken). Issued by `taizhang open311 key create`.
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from taizhang.cases.models import Case
from taizhang.errors import contains_nul
from taizhang.intake.models import Open311Key, Open311Request
from taizhang.org.models import ApiToken, Division, User
from taizhang.org.roles import Role
from taizhang.org.scopes import grants_of, roles_over
from taizhang.web.api.auth import TOUCH_EVERY, hash_token
from taizhang.web.lockout import token_failed, token_guard

from .render import Open311Error

RAW_PREFIX = "o311_"


class KeyRefused(ValueError):
    """A key cannot be issued as asked (unknown person, no 受理员 role there); the message says why."""


def intake_divisions(user: User) -> list[Division]:
    """The divisions the person is 受理员 on."""
    return [g.division for g in grants_of(user) if g.role == Role.INTAKE and g.division is not None]


def issue_key(user: User, name: str, division: Division | None = None) -> tuple[Open311Key, str]:
    """Create an Open311 key for a 受理员 (limited to `division` and below when given).

    Returns the row and the raw key; the raw key is shown once and only its hash is kept.
    """
    if not user.is_active:
        raise KeyRefused(f"{user.username} 已停用")
    if division is None and not intake_divisions(user):
        raise KeyRefused(f"{user.username} 不是任何区划的受理员，不能持有 Open311 密钥")
    if division is not None and Role.INTAKE not in roles_over(user, division, None, None):
        raise KeyRefused(f"{user.username} 不是{division.name}的受理员")
    raw = RAW_PREFIX + secrets.token_urlsafe(32)
    row = Open311Key.objects.create(
        user=user, name=name, division=division, key_hash=hash_token(raw), created_at=timezone.now()
    )
    return row, raw


def authenticate(request: HttpRequest, api_key: str) -> Open311Key:
    """The active Open311 key behind an api_key, with its person; 403 for anything else. Every wrong key
    counts against the caller's address, and a locked-out address gets 429 whatever it sends
    (taizhang.web.lockout, shared with the API's bearer tokens)."""
    token_guard(request)
    if not api_key:
        raise Open311Error(403, "缺少 api_key（表单参数 api_key 或请求头 X-API-Key）")
    digest = hash_token(api_key)
    row = (
        Open311Key.objects.select_related("user", "division")
        .filter(key_hash=digest, revoked=False, user__is_active=True)
        .first()
    )
    if row is None:
        token_failed(request)
        if ApiToken.objects.filter(token_hash=digest).exists():
            raise Open311Error(
                403,
                "api_key 是台账接口令牌（Bearer），不能用于 Open311：请管理员以"
                " `taizhang open311 key create` 签发 Open311 密钥",
            )
        raise Open311Error(403, "api_key 无效或已停用")
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        Open311Key.objects.filter(pk=row.pk).update(last_used_at=now)
    return row


def resolve_jurisdiction(key: Open311Key, code: str) -> Division:
    """The division to file at: the one named (within the key's division, if it has one), else the
    key's division, else the only one its person is 受理员 on."""
    user = key.user
    if not code:
        if key.division is not None:
            return key.division
        mine = intake_divisions(user)
        if len(mine) != 1:
            raise Open311Error(400, "请提供 jurisdiction_id（区划编码）")
        return mine[0]
    division = None if contains_nul(code) else Division.objects.filter(code=code).first()
    if division is None:
        raise Open311Error(404, f"没有编码为 {code} 的辖区（jurisdiction_id）")
    if key.division is not None and not key.division.contains(division):
        raise Open311Error(403, f"该 api_key 只能用于{key.division.name}及其下级辖区")
    if Role.INTAKE not in roles_over(user, division, None, None):
        raise Open311Error(403, f"该 api_key 的用户不是{division.name}的受理员")
    return division


def request_token(case: Case, key: Open311Key) -> str:
    """The token of the request that filed the case: made once, at random; a retry gets the same."""
    row = Open311Request.objects.filter(case=case).values_list("token", flat=True).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            made = Open311Request.objects.create(
                case=case, token=secrets.token_urlsafe(32), key=key, created_at=timezone.now()
            )
    except IntegrityError:  # the same retry, at the same moment, made it first
        return Open311Request.objects.get(case=case).token
    return made.token


def case_of_token(token: str) -> Case | None:
    """The case a POST's token stands for; None for an unknown token."""
    row = Open311Request.objects.filter(token=token).select_related("case").first()
    return row.case if row else None
