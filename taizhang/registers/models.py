"""Register items (台账条目: an enterprise, a building …), their places in the org tree and their history.

Registers are no cases: separate tables that no case list, 待办, KPI, dashboard or report reads.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from taizhang.appendonly import AppendOnlyModel
from taizhang.org.models import Division, Unit


class RegisterItemQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view") -> RegisterItemQuerySet:
        """Items a person may see (`view`) or try to act on (`act`: the action then checks the role):
        those whose place or unit the person's nodes reach, as for cases, and everything for inspectors
        and administrators; nothing for a resident or an anonymous visitor."""
        from .permissions import visible_q

        if action not in ("view", "act"):
            raise ValueError(f"unknown action {action!r}")
        q = visible_q(user)
        return self.all() if q is None else self.filter(q)


class RegisterItem(models.Model):
    register = models.CharField("台账", max_length=40)
    number = models.CharField("编号", max_length=40, unique=True)
    region = models.CharField("区域", max_length=64, db_index=True, help_text="所属区（县）编码")
    name = models.CharField("名称", max_length=200)
    category = models.CharField("类别", max_length=40, blank=True)
    division = models.ForeignKey(
        Division, verbose_name="所在区划", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        Unit, verbose_name="所属单位", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField("地址", max_length=300, blank=True)
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    lon = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    data = models.JSONField("字段", default=dict, blank=True)
    assessed_at = models.DateTimeField("最近评估", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=0)
    last_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField("建档时间")
    updated_at = models.DateTimeField("更新时间")

    objects = RegisterItemQuerySet.as_manager()

    class Meta:
        verbose_name = "台账条目"
        verbose_name_plural = "台账条目"
        ordering = ["-id"]
        indexes = [models.Index(fields=["register", "name"], name="registeritem_register_name")]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class ItemParty(models.Model):
    """The item's place (division) and unit as the permission rules read them: `path` is "d"/"u" + the
    node's path, the key of the case party rows, so the items a person's nodes reach are one indexed
    prefix search (taizhang.org.scopes.reach_q) — the same rule as for cases."""

    item = models.ForeignKey(RegisterItem, on_delete=models.CASCADE, related_name="parties")
    kind = models.CharField(max_length=16)  # place, lead (the item's unit)
    division = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    path = models.CharField(max_length=601)

    class Meta:
        verbose_name = "台账条目归属"
        verbose_name_plural = "台账条目归属"
        indexes = [
            models.Index(fields=["path", "kind"], name="itemparty_path_kind"),
            models.Index(fields=["item", "kind"], name="itemparty_item_kind"),
        ]


class ItemEvent(AppendOnlyModel):
    """One change of an item (建档, 变更, 评估): append-only, chained to the item's previous row by hash."""

    item = models.ForeignKey(RegisterItem, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=16)  # create, change, assess
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=60)
    role = models.CharField(max_length=32)
    opinion = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "台账记录"
        verbose_name_plural = "台账记录"
        ordering = ["item_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["item", "seq"], name="itemevent_item_seq")]


class ItemSequence(models.Model):
    """The last number given per register (QY-000012)."""

    register = models.CharField(max_length=40, unique=True)
    last = models.PositiveIntegerField(default=0)


class ItemReference(models.Model):
    """A case naming an item in a reference field, from the moment the field took that value: one row each
    time a case's reference field is set or changed (append-only, written with the case's history row by
    `Recorder`, taizhang.registers.references.reference_steps). A case whose field later names another
    item keeps its earlier rows, so the item's page still lists it ("no longer about this item").

    The item is named by its number (unique, never changed), the value the case's field holds: the row is
    written in the case's own statement without looking the item up."""

    item = models.ForeignKey(
        RegisterItem,
        to_field="number",
        db_column="item_number",
        on_delete=models.PROTECT,
        related_name="references",
    )
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    field = models.CharField(max_length=64)
    since = models.DateTimeField()

    class Meta:
        verbose_name = "案件引用台账条目"
        verbose_name_plural = "案件引用台账条目"
        indexes = [
            models.Index(fields=["item", "case"], name="itemreference_item_case"),
            models.Index(fields=["case", "field"], name="itemreference_case_field"),
        ]
