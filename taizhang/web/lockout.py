"""Failed sign-ins are limited per account and address pair and per address (django-axes, counted in the
database so every worker process sees the same numbers): the web and admin log-in forms through axes'
authentication backend, API tokens (Bearer and Open311 api_key) through `token_guard` and `token_failed`.

An account named in a log-in is locked at an address after TAIZHANG_LOGIN_FAILURE_LIMIT failures from that
address within TAIZHANG_LOGIN_COOLOFF_MINUTES; failures from elsewhere do not lock its owner out, so no one
can keep an account (the admin's) locked from afar, and one mistyping colleague behind an office's shared
address locks out no one else. An address is locked for everything after TAIZHANG_LOGIN_ADDRESS_FAILURE_LIMIT
failures over all accounts and tokens, which stops password spraying from it. A wrong token names no
account, so it counts against the address only. A refused attempt during a lock-out counts too, so a
lock-out lasts as long as the guessing goes on. The address is `limit_address` (an IPv6 client by prefix).
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_credentials
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models import Sum
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from taizhang.errors import ActionError


def cooloff_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_parameters(request_or_attempt, credentials: dict | None = None) -> list[str | list[str]]:
    """AXES_LOCKOUT_PARAMETERS: the account and address pair; the address when no account is named (a
    token). The address's count over all accounts is `failure_limit`'s part: axes has one limit."""
    if credentials is not None:
        username = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        username = getattr(request_or_attempt, "username", None)
    return [["username", "ip_address"]] if username else ["ip_address"]


def address_failures(request: HttpRequest) -> int:
    """The failures counted against the request's address within the cool-off, over all accounts and tokens
    (`request.axes_ip_address`: axes sets it from `limit_address` before it asks for the limit)."""
    attempts = AccessAttempt.objects.filter(
        ip_address=request.axes_ip_address, attempt_time__gte=get_cool_off_threshold(request)
    )
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def failure_limit(request: HttpRequest, credentials: dict | None = None) -> int:
    """AXES_FAILURE_LIMIT, which axes compares with the count of `lockout_parameters`: for a named account
    the pair's limit, for a token the address's. An address that has reached its own limit over all
    accounts is refused whichever account it names next: its limit is then 0."""
    per_address = settings.TAIZHANG_LOGIN_ADDRESS_FAILURE_LIMIT
    if not get_client_username(request, credentials):
        return per_address  # the count axes compares is the address's own
    if address_failures(request) >= per_address:
        return 0
    return settings.TAIZHANG_LOGIN_FAILURE_LIMIT


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
    """A successful sign-in clears that account's failures from the same address (the owner's own typos),
    and with them their share of the address's count. Strangers' failures from other addresses stay, and so
    do failures on other accounts: signing in to one's own account between guesses resets nothing."""
    AxesProxyHandler.update_request(request)
    address = getattr(request, "axes_ip_address", None)
    if address:  # without one, axes' reset would clear the account at every address
        AxesProxyHandler.reset_attempts(username=user.get_username(), ip_address=address)
