"""API authentication: bearer tokens for machines, the session for the UI."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from taizhang.org.models import ApiToken, User

# How stale a token's last-used time may get: stamping it on every request would make every read a write.
TOUCH_EVERY = timedelta(minutes=5)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User, name: str) -> str:
    """Create a token for a person; the raw value is shown once and only its hash is kept."""
    raw = "tz_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, token_hash=hash_token(raw))
    return raw


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        row = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=hash_token(token), revoked=False, user__is_active=True)
            .first()
        )
        if row is None:
            return None
        now = timezone.now()
        if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        return row.user


API_AUTH = [TokenAuth(), SessionAuth()]
