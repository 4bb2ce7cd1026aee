"""Writing a change: the case row by compare-and-swap on its version, then its history rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Model
from django.utils import timezone

from taizhang.errors import conflict

from .hashchain import transition_digest
from .models import Attachment, Case, Transition

# What a history row reports as changed when it differs before and after a transition.
TRACKED = (
    "state",
    "grade",
    "category",
    "title",
    "description",
    "address",
    "unit_id",
    "person_id",
    "due_at",
    "limit_text",
    "clock_left",
    "supervision_level",
    "supervising_division_id",
    "total_due_at",
    "total_limit",
    "listed_by",
)


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()  # one format whether read from the DB or computed
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Model):
        return value.pk
    return value


def snapshot(case: Case) -> dict[str, Any]:
    snap = {name: jsonable(getattr(case, name)) for name in TRACKED}
    snap.update({f"fields.{k}": jsonable(v) for k, v in (case.data or {}).items()})
    return snap


def creation_changes(case: Case, division_code: str) -> dict[str, list[Any]]:
    """What a create row records of a new case (`taizhang audit verify` replays from it): every value set."""
    return {
        k: [None, jsonable(v)]
        for k, v in {
            "title": case.title,
            "category": case.category,
            "grade": case.grade,
            "channel": case.channel,
            "division": division_code,
            "address": case.address,
            "unit_id": case.unit_id,  # a unit's own self-check report is its case from the start
            "due_at": case.due_at,
            "total_due_at": case.total_due_at,
        }.items()
        if v not in (None, "")
    }


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{name: [old, new]} for everything that changed."""
    return {
        k: [before.get(k), after.get(k)]
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }


class Recorder:
    """Collects the history rows of one operation on one case and writes them with the case."""

    def __init__(self, case: Case):
        self.case = case
        self.base_version = case.version
        self.rows: list[tuple[Transition, list[Attachment]]] = []

    def add(
        self,
        *,
        kind: str,
        code: str,
        name: str,
        actor,
        role: str,
        from_state: str,
        to_state: str,
        at: datetime,
        opinion: str = "",
        changes: dict | None = None,
        public: bool = True,
        attachments: list[Attachment] | None = None,
    ) -> Transition:
        """Append a row: its number is the case's next version and it chains the case's last hash."""
        case = self.case
        case.version += 1
        row = Transition(
            case_id=case.pk,
            seq=case.version,
            kind=kind,
            code=code,
            name=name,
            actor=actor,
            actor_name=str(actor) if actor else "系统",
            role=role,
            from_state=from_state,
            to_state=to_state,
            opinion=opinion,
            changes=changes or {},
            due_at=case.due_at,
            public=public,
            created_at=at,
            prev_hash=case.last_hash,
        )
        files = attachments or []
        row.hash = transition_digest(row, [a.sha256 for a in files])
        case.last_hash = row.hash
        case.updated_at = at
        self.rows.append((row, files))
        return row

    def commit(self) -> None:
        """Update the case only if nobody changed it since it was read, then insert the rows.

        The compare-and-swap comes first so that a concurrent loser gets a clean 409, not a
        unique-key failure on the history.
        """
        case = self.case
        values = {
            f.attname: getattr(case, f.attname)
            for f in Case._meta.concrete_fields
            if not f.primary_key and f.attname not in ("number", "created_at")
        }
        updated = Case.objects.filter(pk=case.pk, version=self.base_version).update(**values)
        if updated != 1:
            raise conflict("stale_version", "案件已被他人更新，请刷新后重试")
        self._insert_rows()

    def _insert_rows(self) -> None:
        for row, files in self.rows:
            row.save()
            if files:
                # Claim only attachments no record has used yet: two requests naming the same photo
                # at once must not both take it (the loser's history would hash a file it lost).
                claimed = Attachment.objects.filter(
                    pk__in=[a.pk for a in files], transition__isnull=True
                ).update(transition=row, case=self.case, claimed_at=row.created_at)
                if claimed != len(files):
                    raise conflict("attachment_taken", "附件已被另一条记录使用，请重新上传")
        self.base_version = self.case.version
        self.rows = []

    def insert_new(self) -> None:
        """For a case just inserted in this transaction: only the rows are left to write."""
        Case.objects.filter(pk=self.case.pk).update(last_hash=self.case.last_hash, version=self.case.version)
        self._insert_rows()
