"""What a case row must hold according to its history: replay the rows and compare.

Every change of a case is written with a history row (recording.py), so the row's columns that the
history records can be rebuilt from it alone: the state (each row's `to_state`), the deadline (each
row's `due_at`, the deadline at that moment), everything `TRACKED` and the form fields from the last
row that changed them, the 协办 units, the master of a 并单 and the duplicates merged in; a case's link to
the case that opened it (`spawn`) from its creation row (`link_mismatches`). A case row
changed behind the platform's back (`UPDATE cases_case SET state = 'closed'`) no longer matches.

Limits, said plainly: a form field given at report time and never changed since is not in the
history (the create row records only the attributes in `CREATE_KEYS` and the initial unit), so it
cannot be replayed; nor can `limit_text` before a row changed it. Create rows written before the
initial unit was recorded (and those of cases created without one) say nothing of the unit, so the unit
is compared only from the first row that sets it: a database from before this check verifies clean.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .models import Case, Transition
from .recording import TRACKED, snapshot

# What the create row records when not empty (create.py, intake/importer/rows.py): absent means empty.
CREATE_KEYS = ("title", "category", "grade", "channel", "address")
# Columns every case starts with, changed only by rows that record the change.
START = {
    "person_id": None,
    "supervision_level": 0,
    "supervising_division_id": None,
    "co_units": [],
    "merged_into": None,
}


@dataclass(frozen=True)
class Mismatch:
    """A column of a case row that differs from what its history says."""

    case_number: str
    field: str
    actual: Any
    expected: Any

    def __str__(self) -> str:
        return f"{self.case_number} 字段 {self.field}：案件表为 {self.actual!r}，流转记录为 {self.expected!r}"


def expected_columns(rows: Iterable[Transition]) -> dict[str, Any]:
    """The case's columns as its history rows, in order, establish them."""
    expected: dict[str, Any] = {}
    for row in rows:
        changes = row.changes or {}
        if row.kind == "create":
            expected.update(START)
            if "unit_id" in changes:  # else unknown until a row sets it (see the module's docstring)
                expected["unit_id"] = changes["unit_id"][1]
            expected.update({key: changes.get(key, [None, ""])[1] for key in CREATE_KEYS})
            expected["division"] = changes.get("division", [None, None])[1]
            expected["description"] = row.opinion
        for key, pair in changes.items():
            if not isinstance(pair, list) or len(pair) != 2:
                continue  # not an [old, new] change (none is written today)
            new = pair[1]
            if key == "due_at":
                continue  # the row's own due_at says it, as a moment rather than text
            if key in TRACKED:
                expected[key] = new
            elif key.startswith("fields.") and row.kind != "copy":  # a copied answer stays the master's
                expected[key] = new
            elif key == "co_units":
                expected["co_units"] = sorted(new or [])
            elif key == "merged_into":
                expected["merged_into"] = new
            elif key == "merged_from" and row.kind == "merge":
                expected["fields.merged_from"] = [*expected.get("fields.merged_from", []), new]
        expected["state"] = row.to_state
        expected["due_at"] = row.due_at
    return expected


def actual_columns(case: Case, co_units: list[str], merged_into: str | None) -> dict[str, Any]:
    """The case row's columns in the form the history records them."""
    actual = snapshot(case)
    actual.update(
        due_at=case.due_at,
        channel=case.channel,
        division=case.division.code,
        co_units=sorted(co_units),
        merged_into=merged_into,
    )
    return actual


def compare(
    case: Case, rows: list[Transition], co_units: list[str], merged_into: str | None, state_kind: str | None
) -> list[Mismatch]:
    """Every column of the case row that differs from its replayed history.

    `state_kind` is the kind the mechanism gives the case's recorded state (None: not known).
    """
    expected = expected_columns(rows)
    actual = actual_columns(case, co_units, merged_into)
    found = [
        Mismatch(case.number, key, actual.get(key), value)
        for key, value in expected.items()
        if actual.get(key) != value
    ]
    if state_kind is not None and case.state_kind != state_kind:
        found.append(Mismatch(case.number, "state_kind", case.state_kind, state_kind))
    return found


def link_mismatches(case: Case, rows: list[Transition], parents: list[tuple[str, str]]) -> list[Mismatch]:
    """The case's links to its parents (`parents`: (number, kind) from the link table) against its
    history: the creation row names the parent that opened it (`spawned_from`, `link_kind`), and each
    关联 made or ended by hand from another case is a `link` row (`related_from`; links.py)."""
    recorded: list[tuple[str, str]] = []
    for row in rows:
        changes = row.changes or {}
        if row.kind == "create" and "spawned_from" in changes:
            recorded.append((changes["spawned_from"][1], (changes.get("link_kind") or [None, None])[1]))
        elif row.kind == "link" and "related_from" in changes:
            before, after = changes["related_from"]
            if before is not None and (before, "related") in recorded:
                recorded.remove((before, "related"))
            if after is not None:
                recorded.append((after, "related"))
    if sorted(parents) == sorted(recorded):
        return []
    return [Mismatch(case.number, "links", sorted(parents), sorted(recorded))]
