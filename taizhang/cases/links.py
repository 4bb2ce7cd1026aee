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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from taizhang.clock.now import now as clock_now
from taizhang.errors import FieldError, conflict, forbidden, invalid, not_found
from taizhang.mechanisms.fieldvalues import clean_fields
from taizhang.mechanisms.registry import Mechanism, get_mechanism
from taizhang.mechanisms.schema import SpawnDef, TransitionDef
from taizhang.org.models import Division, Unit, User
from taizhang.org.parties import LEAD, PLACE, SUPERVISOR
from taizhang.text import normalise_text

from .models import Case, CaseLink
from .parties import add_party, level_division, node_kwargs, node_path_of, related, row
from .recording import Recorder, creation_changes, jsonable

if TYPE_CHECKING:
    from taizhang.org.scopes import Acting

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
    """409 `children_open` while a 子任务 or 派生 child case is not closed (a case without children passes;
    a 关联 case is a peer, linked by hand or spawned as related, and is not waited for)."""
    open_numbers = list(
        Case.objects.filter(parent_links__parent=case, parent_links__kind__in=["subtask", "derived"])
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


# -- 关联 by hand ---------------------------------------------------------------------------------------

# The history entries of a link made or ended by hand: on the first case `related_to` [None, other] (made)
# or [other, None] (ended), on the other `related_from` likewise. The link table is derived from them
# (`replay.link_mismatches` replays the other case's `related_from`); an unlink is a new row on each side.
RELATED = "related"
HAND_KEYS = ("related_to", "related_from")


@dataclass
class HandLink:
    """A checked request to link two cases as 关联, or to end that link (`unlink`)."""

    case: Case
    other: Case
    role: str
    unlink: bool
    opinion: str


def link_acting(user: User, case: Case) -> Acting | None:
    """The staff role the person acts in on the case (`Acting`), None if they may not link it to another:
    the rule of `check_link`, also asked by the case page to offer the form."""
    from taizhang.org.scopes import staff_roles

    from .actions import acting_for

    return acting_for(user, case, sorted(staff_roles(user)))


def may_link(user: User, case: Case) -> bool:
    """Whether the person, who sees the case, may link it to another case they see (or end such a link)."""
    return link_acting(user, case) is not None


def check_link(
    user: User, case_ref: int | str, other_ref: str, unlink: bool = False, opinion: str = ""
) -> HandLink:
    """Whoever sees both cases and holds a staff role acting on the first may link them as 关联 (or end
    such a link). 404 for a case the person does not see (the same as one that does not exist), 403
    `role_not_allowed`, 422 `link_self`, 409 `already_linked` / `not_linked`."""
    from .actions import get_case

    case = get_case(user, case_ref)
    other_ref = str(other_ref or "").strip()
    if not other_ref:
        raise invalid([FieldError("other", "required", "请填写要关联的案件编号")])
    other = Case.objects.for_user(user, one=True).select_related("division").filter(number=other_ref).first()
    if other is None:
        raise not_found()
    acting = link_acting(user, case)
    if acting is None:
        raise forbidden("role_not_allowed", "您的岗位不能关联本案件")
    if other.pk == case.pk:
        raise invalid([FieldError("other", "link_self", "不能关联案件自身")])
    existing = CaseLink.objects.filter(Q(parent=case, child=other) | Q(parent=other, child=case)).first()
    if unlink and (existing is None or existing.kind != RELATED or existing.parent_id != case.pk):
        raise conflict("not_linked", f"本案件没有由此关联的案件 {other.number}（生成的上下级案件不能解除）")
    if not unlink and existing is not None:
        raise conflict("already_linked", f"{other.number} 已与本案件关联（{KIND_NAMES[existing.kind]}）")
    return HandLink(case, other, acting.spec, unlink, normalise_text(opinion or "").strip())


def do_link(user: User, case_ref: int | str, other_ref: str, unlink: bool = False, opinion: str = "") -> Case:
    """Link two cases as 关联 (or end the link): a history row on each case and the link row, in one
    transaction; the first case is returned."""
    with transaction.atomic():
        req = check_link(user, case_ref, other_ref, unlink, opinion)
        case, other, now = req.case, req.other, clock_now()
        name = "解除关联" if unlink else "关联案件"
        for subject, key, number in (
            (case, "related_to", other.number),
            (other, "related_from", case.number),
        ):
            recorder = Recorder(subject)
            recorder.add(
                kind="link",
                code="unlink" if unlink else "link",
                name=name,
                actor=user,
                role=req.role,
                from_state=subject.state,
                to_state=subject.state,
                at=now,
                opinion=req.opinion,
                changes={key: [number, None] if unlink else [None, number]},
                public=False,
            )
            recorder.commit()
        if unlink:
            CaseLink.objects.filter(parent=case, child=other, kind=RELATED).delete()
        else:
            CaseLink.objects.create(parent=case, child=other, kind=RELATED, created_at=now)
    return case
