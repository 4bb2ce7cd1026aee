"""API authentication: bearer tokens for machines, the session for the UI."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from taizhang.org.models import ApiToken, User
from taizhang.web.lockout import token_failed, token_guard

# How stale a token's last-used time may get: stamping it on every request would make every read a write.
TOUCH_EVERY = timedelta(minutes=5)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User, name: str) -> str:
    """Create a token for a person; the raw value is shown once and only its hash is kept."""
    raw = "tz_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, token_hash=hash_token(raw))
    return raw


def user_for_token(request, raw: str) -> User | None:
    """The active person behind a raw token, or None; every wrong token counts against the caller's
    address, and a locked-out address gets 429 `too_many_attempts` whatever it sends (taizhang.web.lockout)."""
    token_guard(request)
    row = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked=False, user__is_active=True)
        .first()
    )
    if row is None:
        token_failed(request)
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        user = user_for_token(request, token)
        if user is not None:
            request.user = user
        return user


API_AUTH = [TokenAuth(), SessionAuth()]
