"""Linked cases: a transition that opens cases in another mechanism (`spawn`), and the guard that waits for
them (`children_closed`).

A spawned case is an ordinary case of its own mechanism: its creation is the first row of its own hash
chain (naming its parent and the kind of link), its unit and parties are set as a report's are, and its
clock starts in its first state. The parent's transition row names the cases it opened. Both rows, the
new cases and the link rows are written in the transaction of the parent's transition: a refusal anywhere
writes nothing. The link table is derived from those rows; `taizhang audit verify` replays each case from
its own history, in which the links are recorded but are no column of the case.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from taizhang.errors import FieldError, conflict, invalid
from taizhang.mechanisms.fieldvalues import clean_fields
from taizhang.mechanisms.registry import Mechanism, get_mechanism
from taizhang.mechanisms.schema import SpawnDef, TransitionDef
from taizhang.org.models import Division, Unit, User
from taizhang.org.parties import LEAD, PLACE, SUPERVISOR

from .models import Case, CaseLink
from .parties import add_party, level_division, node_kwargs, node_path_of, related, row
from .recording import Recorder, creation_changes, jsonable

KIND_NAMES = dict(CaseLink.KINDS)


def link_effects(plan, params: dict[str, Any] | None, actor: User, now) -> dict[str, list[Any]]:
    """What a transition does through links, before its own row is written (called from
    `actions.do_transition`, and from `approvals.do_decide` when a request is approved): the
    `children_closed` guard, then the cases `spawn` opens. Returns the changes for the transition's row
    (`spawned`: the numbers of the cases it opened)."""
    t: TransitionDef = plan.definition
    if t.children_closed:
        check_children_closed(plan.case, t)
    if not t.spawn:
        return {}
    children = open_children(plan, params or {}, actor, now)
    return {"spawned": [None, [c.number for c in children]]} if children else {}


def check_link_request(plan, params: dict[str, Any] | None) -> None:
    """For a transition filed for approval: the guard and the spawn's units and values as they stand now,
    so that a request the approver could not grant is refused to the person asking (both are checked
    again, and the cases opened, when it is approved)."""
    t: TransitionDef = plan.definition
    if t.children_closed:
        check_children_closed(plan.case, t)
    if t.spawn:
        planned_children(plan, params or {})


def check_children_closed(case: Case, t: TransitionDef) -> None:
    """409 `children_open` while a child case of any link kind is not closed (a case without children
    passes)."""
    open_numbers = list(
        Case.objects.filter(parent_links__parent=case)
        .exclude(state_kind="closed")
        .order_by("number")
        .values_list("number", flat=True)
    )
    if open_numbers:
        shown = "、".join(open_numbers[:10]) + ("等" if len(open_numbers) > 10 else "")
        raise conflict(
            "children_open", f"「{t.name}」须待全部下级案件办结，尚有 {len(open_numbers)} 件未办结：{shown}"
        )


def planned_children(
    plan, params: dict[str, Any]
) -> list[tuple[SpawnDef, list[Unit | None], dict[str, Any]]]:
    """Per `spawn` entry, the units and values of the cases it would open; 422 with every problem."""
    errors: list[FieldError] = []
    wanted = [
        (spawn, spawn_units(plan, spawn, params, errors), child_values(plan, spawn, errors))
        for spawn in plan.definition.spawn
    ]
    if errors:
        raise invalid(errors)
    return wanted


def open_children(plan, params: dict[str, Any], actor: User, now) -> list[Case]:
    """Every case the transition's `spawn` entries open, after checking all their units at once."""
    children = []
    for spawn, units, values in planned_children(plan, params):
        children += [open_child(plan, spawn, values, unit, actor, now) for unit in units]
    return children


def spawn_units(plan, spawn: SpawnDef, params: dict[str, Any], errors: list[FieldError]) -> list[Unit | None]:
    """The unit of each case a spawn entry opens (None: a case without a unit)."""
    if spawn.units == "none":
        return [None]
    if spawn.units == "lead":
        lead = plan.unit if plan.unit is not None and plan.definition.assigns_lead else plan.case.unit
        if lead is None:
            errors.append(FieldError("params.units", "no_lead_unit", "案件没有责任单位，无法生成下级案件"))
        return [lead]
    return units_named(params.get("units"), errors)


def units_named(codes: Any, errors: list[FieldError]) -> list[Unit | None]:
    """The units named by `params.units` (a list of unit codes), in order, each once."""
    if isinstance(codes, str):
        codes = [codes]
    if not codes:
        errors.append(FieldError("params.units", "required", "请选择承办单位（可多选）"))
        return []
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        errors.append(FieldError("params.units", "invalid", "承办单位应为单位编码列表"))
        return []
    found = {u.code: u for u in Unit.objects.filter(code__in=codes)}
    for code in codes:
        if code not in found:
            errors.append(FieldError("params.units", "unknown_unit", f"没有编码为 {code} 的单位"))
    return [found[c] for c in dict.fromkeys(codes) if c in found]


def child_values(plan, spawn: SpawnDef, errors: list[FieldError]) -> dict[str, Any]:
    """The new cases' category, grade and form fields copied (`spawn.fields`) from the case as the
    transition leaves it (the values it sets count), checked against the other mechanism's fields."""
    mech, parent = get_mechanism(spawn.mechanism), plan.case

    def attr(name: str) -> Any:
        return plan.sets.get(name) or COPIED_ATTRS[name](parent)

    grades = [g.code for g in mech.definition.grades]
    grade = spawn.grade or (attr("grade") if attr("grade") in grades else (grades[0] if grades else ""))
    copied = {}
    for target, source in spawn.fields.items():
        value = attr(source) if source in COPIED_ATTRS else (plan.data or {}).get(source)
        if value not in (None, "", []):
            copied[target] = value
    data, problems = clean_fields(mech.fields, copied, prefix=f"spawn.{mech.code}")
    errors += problems
    return {
        "category": spawn.category or attr("category"),
        "grade": grade,
        "data": data,
        **{name: attr(name) for name in ("title", "description", "address")},
    }


COPIED_ATTRS = {
    "title": lambda c: c.title,
    "description": lambda c: c.description,
    "address": lambda c: c.address,
    "category": lambda c: c.category,
    "grade": lambda c: c.grade,
    "number": lambda c: c.number,
}


def open_child(plan, spawn: SpawnDef, values: dict[str, Any], unit: Unit | None, actor: User, now) -> Case:
    """One new case in the spawn's mechanism, in the parent's place, for `unit`; its creation row, its
    parties and the link, all in the current transaction."""
    from .create import next_number, save_for_id, write_new
    from .schedule import apply_deadline

    parent: Case = plan.case
    mech = get_mechanism(spawn.mechanism)
    state = spawn.state or mech.definition.intake.initial
    number, child_id = next_number(mech, timezone.localtime(now).year)
    child = Case(
        id=child_id,
        mechanism=mech.code,
        number=number,
        region=parent.region,
        title=values["title"],
        description=values["description"],
        category=values["category"],
        grade=values["grade"],
        channel=spawn.channel,
        division=parent.division,
        address=values["address"],
        lat=parent.lat,
        lon=parent.lon,
        reporter=actor,
        data=values["data"],
        unit=unit,
        created_at=now,
        updated_at=now,
        state_entered_at=now,
        version=0,
    )
    apply_deadline(mech, child, state, "restart", now)
    saved = save_for_id(child)
    body, handed = supervising_body(plan, mech, child)
    add_child_parties(child, body, now)
    changes = creation_changes(child, parent.division.code)
    changes.update({f"fields.{k}": [None, jsonable(v)] for k, v in values["data"].items()})
    changes.update(spawned_from=[None, parent.number], link_kind=[None, spawn.kind])
    if handed:  # as a 交办 records it: the party rows can be rebuilt from the history
        changes["supervisor"] = [None, body.code]
    recorder = Recorder(child)
    recorder.add(
        kind="create",
        code="create",
        name=f"{plan.definition.name}生成"[:60],
        actor=actor,
        role=plan.role,
        from_state="",
        to_state=child.state,
        at=now,
        opinion=child.description,
        changes=changes,
    )
    write_new(recorder, saved)
    CaseLink.objects.create(parent=parent, child=child, kind=spawn.kind, created_at=now)
    return child


def supervising_body(plan, mech: Mechanism, child: Case) -> tuple[Division | Unit | None, bool]:
    """The body that opened the case supervises it (as a 交办 makes the body handing over the supervisor):
    the node the person acted through, unless it is the new case's own unit or above or below it; else
    the level the child's mechanism names. The flag says whether it is the person's node."""
    node = plan.acting.node if plan.acting is not None else None
    own = (
        isinstance(node, Unit)
        and child.unit is not None
        and related(node_path_of(node), node_path_of(child.unit))
    )
    if node is not None and not own:
        return node, True
    return level_division(child.division, mech.definition.parties.supervisor_level), False


def add_child_parties(child: Case, body: Division | Unit | None, now) -> None:
    rows = [row(child, PLACE, now, division=child.division)]
    if child.unit is not None:
        rows.append(row(child, LEAD, now, unit=child.unit))
    if body is not None:
        rows.append(row(child, SUPERVISOR, now, **node_kwargs(body)))
    child._party_nodes = []
    for new in rows:  # written with the creation row (Recorder.insert_new)
        add_party(child, new)
