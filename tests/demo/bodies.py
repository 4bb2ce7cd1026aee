"""Checks that the demo's stories follow the parties of a case (issue #13), called by test_demo.py on the
demo it builds: who verifies, approves and reviews is the body the rules name, not merely someone the
engine lets through (a district verifier could close a street's hazard; the demo's stories must not)."""

from __future__ import annotations

from collections import Counter

from taizhang.cases.models import Case, CaseParty, Transition
from taizhang.org.models import Division, Membership, Unit


def node_of(user_id: int, role: str) -> Division | Unit:
    """The one node on which the person holds `role` (the demo gives each account one membership)."""
    (m,) = Membership.objects.filter(user_id=user_id, role=role).select_related("division", "unit")
    return m.division or m.unit


def acts_for(node: Division | Unit, body: Division) -> bool:
    """Whether a person's node is the body itself or above it (a department located at the division is a
    unit of its own, not the division's body)."""
    return isinstance(node, Division) and body.path.startswith(node.path)


def supervisor_of(case: Case) -> Division:
    (party,) = CaseParty.objects.filter(case=case, kind="supervisor").select_related("division")
    assert party.division is not None, (case.number, "a hazard is supervised by a division")
    return party.division


def check_hazard_bodies(cases: list[Case], rows: dict[int, list[Transition]]) -> Counter:
    """复核销号, 返工, 挂账 and 延期 by the supervising body; 联合执法 leaves the unit responsible.

    Returns how often each kind of node verified (division / department), for the caller to check variety.
    """
    verified_by: Counter = Counter()
    for case in cases:
        history = rows[case.pk]
        body = supervisor_of(case) if any(r.code == "assign" for r in history) else None
        enforcers = {r.changes["enforcement_unit"][1] for r in history if r.code == "refuse"}
        for r in history:
            if r.code in ("pass", "rework"):
                assert r.role == "verifier@supervisor", (case.number, r.code, r.role)
                node = node_of(r.actor_id, "verifier")
                assert acts_for(node, body), (case.number, r.code, node.name, body.name)
                if isinstance(node, Unit):  # never the unit doing the work nor the enforcement bureau
                    assert node.pk != case.unit_id and node.code not in enforcers, (case.number, node.name)
                verified_by[type(node).__name__] += 1
            elif r.kind == "approve" and r.code in ("park", "extend"):
                # 挂账 by the supervising body's leader; an extension by that leader or its dispatcher.
                role = "dispatcher" if r.code == "extend" and r.role == "dispatcher" else "leader@supervisor"
                assert r.role == role, (case.number, r.code, r.role)
                node = node_of(r.actor_id, role.partition("@")[0])
                assert acts_for(node, body), (case.number, r.code, node.name, body.name)
            elif r.code == "refuse":
                # The bureau joins the case as its enforcement party; the unit stays the lead unit.
                assert "unit_id" not in r.changes and case.unit is not None, case.number
                assert not case.unit.enforcement and case.unit.code not in enforcers, case.number
            elif r.code == "rectified" and enforcers:
                # 返工 after 联合执法 goes back to the unit that must rectify, not the bureau.
                assert not Membership.objects.filter(user_id=r.actor_id, unit__code__in=enforcers).exists()
    return verified_by


def check_petition_bodies(petitions: list[Case], rows: dict[int, list[Transition]]) -> None:
    """复查/复核 one level up the unit tree (区人民政府, 市人民政府); 延期 by the deciding body's own leader."""
    units = {u.pk: u for u in Unit.objects.select_related("division")}
    for case in petitions:
        for r in rows[case.pk]:
            if r.code in ("assign_review", "assign_recheck"):
                before, after = (units[pk] for pk in r.changes["unit_id"])
                if before.parent_id is not None:
                    assert after.pk == before.parent_id, (case.number, before.name, after.name)
                else:
                    assert after.division_id == before.division.parent_id, (case.number, after.name)
                assert after.name.endswith("人民政府"), (case.number, after.name)
            elif r.kind == "approve" and r.code == "extend":
                assert r.role == "leader@lead", (case.number, r.role)
                assert node_of(r.actor_id, "leader").pk == case.unit_id, case.number
