"""What the intake channels keep besides the case: the resident portal's tracking codes (查询码), the
Open311 keys and the tokens of the requests they filed."""

from __future__ import annotations

from django.db import models

from taizhang.cases.models import Case
from taizhang.org.models import Division, User


class PortalTicket(models.Model):
    """A tracking code given to whoever filed a case on the resident portal.

    The code is the case number and a random secret (`SQ-2026-000123-7KQ9M2XT4P`); only the secret's
    SHA-256 is stored, like a password, so the table alone lets nobody follow a case. `client` is a
    keyed hash of the sender's address (or account), never the address itself: it is what the portal's
    rate limit counts.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="portal_tickets")
    digest = models.CharField(max_length=64, unique=True)
    client = models.CharField(max_length=64, blank=True)
    anonymous = models.BooleanField("匿名提交", default=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "查询码"
        verbose_name_plural = "查询码"
        indexes = [models.Index(fields=["client", "created_at"], name="intake_ticket_client")]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.created_at:%Y-%m-%d %H:%M}"


class Open311Key(models.Model):
    """An Open311 `api_key`: usable only on /open311/v2/, never as an API bearer token (and the API's
    tokens are refused there). Only its SHA-256 is stored, like ApiToken's.

    The key acts as its person (`user`, who must be 受理员 where it files: the reporter of record);
    with a `division` it files only at that division and below, and that division is the default
    jurisdiction. Issued, listed and revoked with `taizhang open311 key …`.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="open311_keys")
    name = models.CharField("名称", max_length=100)
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="限定辖区"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        verbose_name = "Open311 密钥"
        verbose_name_plural = "Open311 密钥"

    def __str__(self) -> str:
        return f"{self.name} · {self.user}"


class Open311Request(models.Model):
    """The GeoReport v2 `token` of the case an Open311 POST filed (GET tokens/{token}).

    A random value made for the request (`secrets.token_urlsafe`), neither derived from the key nor
    from what was sent nor from a counter: nobody can find a request's token without having filed
    it. A retry within the idempotency window returns the same case and so the same token.
    """

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="open311_request")
    token = models.CharField(max_length=64, unique=True)
    key = models.ForeignKey(Open311Key, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "Open311 请求令牌"
        verbose_name_plural = "Open311 请求令牌"
