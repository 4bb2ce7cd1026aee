"""Failed sign-ins are limited per account and per address (django-axes, counted in the database so every
worker process sees the same numbers): the web and admin log-in forms through axes' authentication backend,
API tokens (Bearer and Open311 api_key) through `token_guard` and `token_failed` here.

The limits are TAIZHANG_LOGIN_FAILURE_LIMIT failures within TAIZHANG_LOGIN_COOLOFF_MINUTES; a refused
attempt during a lock-out counts too, so a lock-out lasts as long as the guessing goes on. A wrong token
names no account, so it counts against the address only.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from taizhang.errors import ActionError


def cooloff_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_parameters(request_or_attempt, credentials: dict | None = None) -> list[str]:
    """AXES_LOCKOUT_PARAMETERS: the account and the address; only the address when no account is named."""
    if credentials is not None:
        username = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        username = getattr(request_or_attempt, "username", None)
    return ["username", "ip_address"] if username else ["ip_address"]


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the web and admin log-in answer 429 with a page that says how long to wait."""
    minutes = cooloff_minutes()
    response = render(request, "web/locked_out.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


class TooManyAttempts(ActionError):
    """429 `too_many_attempts`; the API adds `Retry-After: retry_after` (seconds)."""

    retry_after: int = 0


def too_many_attempts() -> TooManyAttempts:
    minutes = cooloff_minutes()
    error = TooManyAttempts(
        "too_many_attempts",
        f"该地址的认证失败次数过多，已暂停 {minutes} 分钟；请确认接口令牌后再试",
        429,
    )
    error.retry_after = minutes * 60
    return error


TOKEN_CREDENTIALS = get_credentials(None)  # a token names no account: counted per address


def token_guard(request: HttpRequest) -> None:
    """Refuse any token from an address locked out by failures (429 `too_many_attempts`); the refusal
    counts as a failure, as a refused log-in does."""
    if AxesProxyHandler.is_allowed(request, TOKEN_CREDENTIALS):
        return
    token_failed(request)
    raise too_many_attempts()


def token_failed(request: HttpRequest) -> None:
    """Count a wrong token against the caller's address; 429 once the limit is reached."""
    user_login_failed.send(sender=__name__, credentials=dict(TOKEN_CREDENTIALS), request=request)
    if getattr(request, "axes_locked_out", False):
        request.axes_locked_out = False  # the API answers in its own format, not with the log-in page
        raise too_many_attempts()


@receiver(user_logged_in)
def forget_own_failures(sender, request, user, **kwargs) -> None:
    """A successful sign-in clears that account's failures (from every address), and with them their share
    of the address's count; failures on other accounts stay, so signing in to one's own account between
    guesses at others resets nothing."""
    AxesProxyHandler.reset_attempts(username=user.get_username())
