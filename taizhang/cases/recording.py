"""Writing a change: the case row by compare-and-swap on its version, then its history rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Model
from django.db.models.signals import post_save
from django.utils import timezone

from taizhang.errors import conflict
from taizhang.org.parties import FORMER
from taizhang.registers.references import reference_steps

from .hashchain import transition_digest
from .models import Attachment, Case, CaseParty, Transition
from .parties import take_writes, written
from .writes import Batch, Ref

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
        """Update the case only if nobody changed it since it was read, then insert the rows, claim their
        attachments and write the party changes: one statement on PostgreSQL (`writes.Batch`).

        The compare-and-swap comes first and guards the rest, so that a concurrent loser gets a clean
        409, not a unique-key failure on the history.
        """
        case = self.case
        batch = Batch()
        batch.update(Case, changed_values(case), "id = %s AND version = %s", [case.pk, self.base_version])
        reference_steps(batch, case, case.pk)  # a reference field's new value (the item's list of cases)
        self._write(batch, case.pk)

    def insert_new(self, saved: bool) -> None:
        """For a new case: its row (unless `saved` already, for its id: then its hash and version), its
        history rows and its parties, in one batch."""
        case, batch = self.case, Batch()
        if saved:
            batch.update(Case, {"last_hash": case.last_hash, "version": case.version}, "id = %s", [case.pk])
        else:
            values = {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields}
            batch.insert(Case, values)
        reference_steps(batch, case, case.pk, new=True)
        self._write(batch, case.pk)

    def _write(self, batch: Batch, case_id: int) -> None:
        case = self.case
        row_steps = []
        for row, files in self.rows:
            values = {f.attname: getattr(row, f.attname) for f in TRANSITION_FIELDS}
            values["case_id"] = case_id
            step = batch.insert(Transition, values)
            claim = None
            if files:
                # Claim only attachments no record has used yet: two requests naming the same photo
                # at once must not both take it (the loser's history would hash a file it lost).
                claim = batch.update(
                    Attachment,
                    {"transition_id": Ref(step), "case_id": case_id, "claimed_at": row.created_at},
                    f"id IN ({', '.join(['%s'] * len(files))}) AND transition_id IS NULL",
                    [a.pk for a in files],
                )
            row_steps.append((row, files, step, claim))
        writes = take_writes(case)
        if writes.demoted:
            ids = sorted(writes.demoted)
            batch.update(CaseParty, {"kind": FORMER}, f"id IN ({', '.join(['%s'] * len(ids))})", ids)
        party_steps = [
            batch.insert(CaseParty, {**party_values(new), "case_id": case_id}) for new in writes.added
        ]
        results = batch.run()
        if not results[0]:
            raise conflict("stale_version", "案件已被他人更新，请刷新后重试")
        case._state.adding, case._state.db = False, connection.alias
        for row, files, step, claim in row_steps:
            if claim is not None and results[claim] != len(files):
                raise conflict("attachment_taken", "附件已被另一条记录使用，请重新上传")
            row.pk, row.case_id = results[step], case.pk
            row._state.adding, row._state.db = False, connection.alias
            for a in files:
                a.transition_id, a.case_id, a.claimed_at = row.pk, case.pk, row.created_at
        written(case, writes, [results[i] for i in party_steps])
        case.loaded_values = current_values(case)
        self.base_version = case.version
        self.rows = []
        for row, *_ in row_steps:  # what `save()` would have told (insight scores answers)
            post_save.send(
                Transition, instance=row, created=True, update_fields=None, raw=False, using=connection.alias
            )


TRANSITION_FIELDS = [f for f in Transition._meta.concrete_fields if not f.primary_key]
CASE_FIELDS = [
    f for f in Case._meta.concrete_fields if not f.primary_key and f.attname not in ("number", "created_at")
]
# Written whether or not they look changed: a JSON value may have been changed in place.
MUTABLE = {f.attname for f in CASE_FIELDS if f.get_internal_type() == "JSONField"}


def current_values(case: Case) -> dict[str, Any]:
    return {f.attname: getattr(case, f.attname) for f in CASE_FIELDS}


def changed_values(case: Case) -> dict[str, Any]:
    """The case's columns this operation changed (all of them for a case not read by `from_db`)."""
    now = current_values(case)
    before = getattr(case, "loaded_values", None)
    if before is None:
        return now
    return {k: v for k, v in now.items() if k in MUTABLE or k not in before or before[k] != v}


def party_values(new: CaseParty) -> dict[str, Any]:
    return {
        "kind": new.kind,
        "division_id": new.division_id,
        "unit_id": new.unit_id,
        "path": new.path,
        "since": new.since,
    }
