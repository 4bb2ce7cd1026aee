"""Rebuilding the party rows of cases from their history: the migration of databases made before
parties existed (cases 0009), also usable to check that the rows still follow the history.

From each case's rows: the place, the lead unit and 协办 units it has now, every unit that led or assisted
before (earlier leads keep read access), the supervising body (the node through which the person who last
handed the case over acted, or the mechanism's supervisor level), and the enforcement units of 联合执法.
Before parties, 联合执法 made the enforcement unit the lead unit; such cases keep it as lead (their history
says so) and get it as enforcement party too.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

CHUNK = 2000


def rebuild_parties(models: dict[str, Any], case_ids: list[int] | None = None) -> int:
    """Write the party rows of the cases (all, or `case_ids`) that have none; returns how many cases.

    `models`: the model classes by name (Case, Transition, CaseParty, Membership, Division, Unit), the
    historical ones in a migration.
    """
    Case, Transition, CaseParty = models["Case"], models["Transition"], models["CaseParty"]
    Membership, Division, Unit = models["Membership"], models["Division"], models["Unit"]
    qs = Case.objects.order_by("pk").exclude(pk__in=CaseParty.objects.values("case_id"))
    if case_ids is not None:
        qs = qs.filter(pk__in=case_ids)
    enforcement_codes, levels = mechanism_facts()
    divisions = {d.pk: d for d in Division.objects.all()}
    units = {u.pk: u for u in Unit.objects.all()}
    units_by_code = {u.code: u for u in units.values()}
    grants: dict[int, list] = defaultdict(list)
    for m in Membership.objects.all():
        grants[m.user_id].append(m)
    done, last = 0, 0
    while True:
        chunk = list(qs.filter(pk__gt=last)[:CHUNK])
        if not chunk:
            return done
        last = chunk[-1].pk
        history: dict[int, list] = defaultdict(list)
        for row in Transition.objects.filter(case_id__in=[c.pk for c in chunk]).order_by("case_id", "seq"):
            history[row.case_id].append(row)
        co_now: dict[int, set[int]] = defaultdict(set)
        through = Case.co_units.through
        for case_id, unit_id in through.objects.filter(case_id__in=[c.pk for c in chunk]).values_list(
            "case_id", "unit_id"
        ):
            co_now[case_id].add(unit_id)
        rows = []
        for case in chunk:
            facts = CaseFacts(case, history[case.pk], co_now[case.pk], divisions, units, units_by_code)
            rows += facts.rows(CaseParty, grants, enforcement_codes.get(case.mechanism, set()), levels)
        CaseParty.objects.bulk_create(rows)
        done += len(chunk)


def mechanism_facts() -> tuple[dict[str, set[str]], dict[str, str | None]]:
    """{mechanism: codes of its 联合执法 transitions} and {mechanism: supervisor level} from the files."""
    from taizhang.mechanisms.registry import get_registry

    enforcement: dict[str, set[str]] = {}
    levels: dict[str, str | None] = {}
    for code, mech in get_registry().mechanisms.items():
        enforcement[code] = {t.code for t in mech.definition.transitions if t.assign == "enforcement_unit"}
        levels[code] = mech.definition.parties.supervisor_level
    return enforcement, levels


class CaseFacts:
    """What one case's history says about its parties."""

    def __init__(self, case, history, co_now, divisions, units, units_by_code):
        self.case, self.history, self.co_now = case, history, co_now
        self.divisions, self.units, self.units_by_code = divisions, units, units_by_code

    def rows(self, CaseParty, grants, enforcement_codes: set[str], levels: dict) -> list:
        case = self.case
        out: list = []

        def add(kind: str, division=None, unit=None, since=None) -> None:
            path = "d" + division.path if division is not None else "u" + unit.path
            if any(r.kind == kind and r.path == path for r in out):
                return
            out.append(
                CaseParty(
                    case_id=case.pk,
                    kind=kind,
                    division_id=getattr(division, "pk", None),
                    unit_id=getattr(unit, "pk", None),
                    path=path,
                    since=since or case.created_at,
                )
            )

        add("place", division=self.divisions[case.division_id])
        if case.unit_id is not None:
            add("lead", unit=self.units[case.unit_id])
        for unit_id in sorted(self.co_now):
            add("co", unit=self.units[unit_id])
        supervisor = self.level_body(levels.get(case.mechanism))  # until somebody hands the case over
        enforcing: set[int] = set()
        for row in self.history:
            changes = row.changes or {}
            unit_change = changes.get("unit_id")
            if isinstance(unit_change, list) and len(unit_change) == 2:
                old, new = unit_change
                if old is not None and old != case.unit_id and old in self.units:
                    add("former", unit=self.units[old], since=row.created_at)
                if new is not None and new in self.units:
                    if row.code in enforcement_codes:
                        enforcing.add(new)
                    elif row.kind != "create" and row.actor_id is not None and "supervisor" not in changes:
                        found = self.node_of(grants.get(row.actor_id, []), row.role)
                        supervisor = self.hand_to(found, supervisor, add, row)
                    if new != case.unit_id:
                        add("former", unit=self.units[new], since=row.created_at)
            # Rows written since parties exist say who joined for enforcement and who supervises.
            enforcement = changes.get("enforcement_unit")
            if isinstance(enforcement, list) and len(enforcement) == 2:
                old, new = (self.units_by_code.get(c) if c else None for c in enforcement)
                if old is not None:
                    enforcing.discard(old.pk)
                    add("former", unit=old, since=row.created_at)
                if new is not None:
                    enforcing.add(new.pk)
            handed = changes.get("supervisor")
            if isinstance(handed, list) and len(handed) == 2 and handed[1]:
                supervisor = self.hand_to(self.node_by_code(handed[1]), supervisor, add, row)
            co_change = changes.get("co_units")
            if isinstance(co_change, list) and len(co_change) == 2:
                for code in {*(co_change[0] or []), *(co_change[1] or [])}:
                    unit = self.units_by_code.get(code)
                    if unit is not None and unit.pk not in self.co_now:
                        add("former", unit=unit, since=row.created_at)
        for unit_id in sorted(enforcing):
            add("enforcement", unit=self.units[unit_id])
        if supervisor is not None:
            kind_kwargs = {"division": supervisor} if hasattr(supervisor, "level") else {"unit": supervisor}
            add("supervisor", **kind_kwargs)
        return out

    def node_of(self, memberships: list, role: str):
        """The node the person acted through: the deepest division of theirs holding the role above the
        case's place, else a unit where they hold it."""
        role = role.partition("@")[0]
        place = self.divisions[self.case.division_id]
        held = [m for m in memberships if m.role == role]
        above = [self.divisions[m.division_id] for m in held if m.division_id is not None]
        above = [d for d in above if place.path.startswith(d.path)]
        if above:
            return max(above, key=lambda d: d.depth)
        return next((self.units[m.unit_id] for m in held if m.unit_id is not None), None)

    @staticmethod
    def hand_to(new, old, add, row):
        """The supervising body after a handover; the one before keeps read access as an earlier party."""
        if new is None:
            return old
        if old is not None and old != new:
            key = {"division": old} if hasattr(old, "level") else {"unit": old}
            add("former", since=row.created_at, **key)
        return new

    def node_by_code(self, code: str):
        """A supervising body named in a history row: a division's code, else a unit's."""
        found = next((d for d in self.divisions.values() if d.code == code), None)
        return found or self.units_by_code.get(code)

    def level_body(self, level: str | None):
        """The mechanism's supervising level above the case's place (as the engine picks it at intake)."""
        from .parties import level_division

        place = self.divisions[self.case.division_id]
        codes = {c for c in place.path.split("/") if c}  # historical models have no methods
        return level_division(place, level, [d for d in self.divisions.values() if d.code in codes])
