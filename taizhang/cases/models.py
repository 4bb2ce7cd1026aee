"""Cases, their append-only hash-chained history, attachments, numbering and idempotency keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from taizhang.appendonly import AppendOnlyModel
from taizhang.org.models import Division, Unit

STATE_KINDS = [
    ("open", "办理中"),
    ("waiting", "待处理"),
    ("controlled", "管控中"),
    ("parked", "挂起"),
    ("closed", "已办结"),
]


class CaseQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view", one: bool = False) -> CaseQuerySet:
        """Cases a person may see (`view`) or try to act on (`act`): those with a party the person's
        nodes reach (the place, the lead and 协办 units, the supervising body, an enforcement unit, an
        earlier lead), what they reported, and everything for inspectors. Supporting a case (我也遇到)
        grants nothing here: supporters read the public ledger's view. `one`: the filter is written for
        fetching one case (a correlated EXISTS rather than a semi-join over everything the person reaches).
        """
        from .parties import visible_q

        if action not in ("view", "act"):
            raise ValueError(f"unknown action {action!r}")
        q = visible_q(user, one)
        return self.all() if q is None else self.filter(q)

    def overdue(self, now) -> CaseQuerySet:
        return self.filter(due_at__lt=now).exclude(state_kind="closed")


class Case(models.Model):
    mechanism = models.CharField("机制", max_length=40, db_index=True)
    number = models.CharField("编号", max_length=40, unique=True)
    region = models.CharField(
        "区域", max_length=64, db_index=True, help_text="所属区（县）编码，用于按区分布"
    )
    title = models.CharField("标题", max_length=200)
    description = models.TextField("描述", blank=True)
    category = models.CharField("类别", max_length=40)
    grade = models.CharField("等级", max_length=40, blank=True)
    channel = models.CharField("渠道", max_length=40)
    state = models.CharField("状态", max_length=40)
    state_kind = models.CharField("状态类型", max_length=16, choices=STATE_KINDS)
    division = models.ForeignKey(
        Division, verbose_name="所在区划", on_delete=models.PROTECT, related_name="cases"
    )
    address = models.CharField("地址", max_length=300, blank=True)
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    lon = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上报人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reported_cases",
    )
    unit = models.ForeignKey(
        Unit, verbose_name="责任单位", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="责任人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )
    data = models.JSONField("表单", default=dict, blank=True)
    co_units = models.ManyToManyField(
        Unit, verbose_name="协办单位", blank=True, related_name="assisting_cases"
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name="并入案件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
    )

    # The clock: computed only by taizhang.clock, stored here so lists and the worker need no maths.
    state_entered_at = models.DateTimeField("进入当前状态时间")
    due_at = models.DateTimeField("截止时间", null=True, blank=True, db_index=True)
    limit_text = models.CharField("时限", max_length=40, blank=True)
    clock_left = models.CharField("停表剩余", max_length=40, blank=True)
    overdue_since = models.DateTimeField("超期时间", null=True, blank=True)
    supervision_level = models.PositiveSmallIntegerField("督办层级", default=0)
    supervising_division = models.ForeignKey(
        Division, verbose_name="督办区划", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The total limit from creation (a 12345 emergency: 2 h whatever the steps); due_at is never later.
    total_due_at = models.DateTimeField("总时限截止时间", null=True, blank=True)
    total_limit = models.CharField("总时限", max_length=80, blank=True)
    # The 挂牌督办 transition that listed the case: its level stays, its acceptance limit applies.
    listed_by = models.CharField("挂牌督办", max_length=40, blank=True)
    # Timer events up to this moment are done; the next one is the first later event.
    timers_done_until = models.DateTimeField(null=True, blank=True)
    next_timer_at = models.DateTimeField(null=True, blank=True, db_index=True)

    # A transition waiting for approval (延期, 挂账): {code, by, role, at, opinion, fields, params}.
    pending = models.JSONField("待审批", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    last_hash = models.CharField(max_length=64, blank=True)
    external_id = models.CharField("外部编号", max_length=100, blank=True)
    created_at = models.DateTimeField("创建时间", db_index=True)
    updated_at = models.DateTimeField("更新时间")
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = "案件"
        verbose_name_plural = "案件"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["mechanism", "state"]),
            models.Index(fields=["region", "created_at"]),
        ]
        constraints = [
            # An imported record (another 12345 system's 工单编号) is one case per mechanism.
            models.UniqueConstraint(
                fields=["mechanism", "external_id"],
                condition=~models.Q(external_id=""),
                name="case_mechanism_external_id",
            ),
        ]

    @classmethod
    def from_db(cls, db, field_names, values):
        """Keep what was read, so that a write sends only the columns an operation changed."""
        instance = super().from_db(db, field_names, values)
        instance.loaded_values = dict(zip(field_names, values, strict=True))
        return instance

    def refresh_from_db(self, *args, **kwargs) -> None:
        """Read again: what was read before no longer tells what this operation changed (every column is
        written then, as for a case never read)."""
        super().refresh_from_db(*args, **kwargs)
        self.__dict__.pop("loaded_values", None)

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_overdue(self) -> bool:
        return self.overdue_since is not None and self.state_kind != "closed"


class CaseParty(models.Model):
    """A party of a case (taizhang.org.parties): who sees it and in which capacity one may act on it.

    Derived from the history (every change of a party is recorded in the transition that made it) and
    kept with the case in the same transaction; `path` is "d"/"u" + the node's path, so that the cases a
    person's nodes reach are one indexed prefix search over this table.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    kind = models.CharField(max_length=16)
    division = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    path = models.CharField(max_length=601)
    since = models.DateTimeField()

    class Meta:
        verbose_name = "案件当事方"
        verbose_name_plural = "案件当事方"
        indexes = [
            models.Index(fields=["path", "kind"], name="caseparty_path_kind"),
            models.Index(fields=["case", "kind"], name="caseparty_case_kind"),
        ]


class Transition(AppendOnlyModel):
    """One change of a case: append-only, chained to the previous row of the same case by hash."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transitions")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=16)  # create, transition, request, approve, refuse, timer
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=60)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=60)
    role = models.CharField(max_length=32)
    from_state = models.CharField(max_length=40, blank=True)
    to_state = models.CharField(max_length=40)
    opinion = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    public = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "流转记录"
        verbose_name_plural = "流转记录"
        ordering = ["case_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="transition_case_seq")]


def attachment_path(instance: Attachment, filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"cases/{instance.created_at:%Y/%m}/{instance.sha256[:2]}/{instance.sha256}.{ext}"


class Attachment(models.Model):
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    transition = models.ForeignKey(
        Transition, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=300)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # A keyed hash of the sender's address (never the address) for anonymous portal uploads, which all
    # come from the portal account: their upload quota is counted per address instead of per person.
    client = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField()
    # When a history row took it; until then it is an upload nobody used, removed by the worker.
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        indexes = [
            models.Index(fields=["uploaded_by", "created_at"], name="attachment_quota_user"),
            models.Index(fields=["client", "created_at"], name="attachment_quota_client"),
            models.Index(fields=["sha256"], name="attachment_sha256"),  # rows that may share a file
            models.Index(
                fields=["created_at"], condition=Q(transition__isnull=True), name="attachment_unclaimed"
            ),
        ]


class CaseSequence(models.Model):
    """The last number given per mechanism and year (YH-2026-000123)."""

    mechanism = models.CharField(max_length=40)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mechanism", "year"], name="case_sequence_unique")]


class IdempotencyKey(models.Model):
    """A create request's key: a retry with the same key returns the case it created."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]


class AuditCheckpoint(models.Model):
    """A signed statement of every case's chain head at one moment (taizhang.cases.checkpoints).

    Only the statement and its signature are trusted: the other columns are for queries.
    """

    serial = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField()
    statement = models.TextField()
    signature = models.CharField(max_length=128)
    key_id = models.CharField(max_length=64)

    class Meta:
        verbose_name = "审计检查点"
        verbose_name_plural = "审计检查点"
        ordering = ["serial"]


class AuditCheckpointHeads(models.Model):
    """One chunk of a checkpoint's chain heads, compressed; only the latest checkpoint keeps them. `kind`:
    the cases' heads, or (from checkpoint format 2) the register items' (taizhang.registers.checkpoint)."""

    checkpoint = models.ForeignKey(AuditCheckpoint, on_delete=models.CASCADE, related_name="heads")
    kind = models.CharField(max_length=8, default="case")  # case, item
    index = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "kind", "index"], name="audit_checkpoint_heads_kind_index"
            )
        ]


class CaseLink(models.Model):
    """A parent/child link between two cases (taizhang.cases.links): a case a transition opened in another
    mechanism (`spawn`), with the kind of link. Written with the history rows that record it on both sides
    (the parent's row names the children it opened, the child's creation row its parent), in the same
    transaction; read only through `Case.objects.for_user` on the other end."""

    KINDS = [("subtask", "子任务"), ("derived", "派生"), ("related", "关联")]

    parent = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="child_links")
    child = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="parent_links")
    kind = models.CharField("关联类型", max_length=16, choices=KINDS)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "案件关联"
        verbose_name_plural = "案件关联"
        constraints = [models.UniqueConstraint(fields=["parent", "child"], name="caselink_parent_child")]
