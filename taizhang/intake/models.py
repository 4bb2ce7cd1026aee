"""What the intake channels keep besides the case: the resident portal's tracking codes (查询码)."""

from __future__ import annotations

from django.db import models

from taizhang.cases.models import Case


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
