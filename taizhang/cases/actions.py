"""Business logic of cases: check_* validates and authorises, do_* changes state and records it.

Views and API endpoints call these and nothing else that writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.db import transaction

from taizhang.clock.calendar import ClockError
from taizhang.clock.clock import Duration
from taizhang.clock.now import now as clock_now
from taizhang.errors import ActionError, FieldError, conflict, forbidden, invalid, not_found, refuse_nul
from taizhang.mechanisms.fieldvalues import clean_fields, missing_fields
from taizhang.mechanisms.registry import Mechanism, get_mechanism
from taizhang.mechanisms.schema import TransitionDef
from taizhang.org.models import Unit, User
from taizhang.org.scopes import Acting, pick_acting
from taizhang.registers.references import reference_errors
from taizhang.text import normalise_data, normalise_text

from .attachments import usable_attachments
from .effects import check_co_units, check_master, copy_to_merged, record_merge, set_co_units
from .extensions import check_extension
from .fetch import fetch_for_acting
from .links import check_link_request, link_effects
from .models import Attachment, Case
from .parties import (
    end_enforcement,
    hand_over,
    join_enforcement,
    one_level_above,
    parties_of,
    with_parties,
)
from .recording import Recorder, diff, snapshot
from .rules import (
    approval_needed,
    check_condition_met,
    check_window,
    condition_met,
    outcome,
    requirements,
    target_state,
    unit_kind_error,
)
from .schedule import apply_deadline


@dataclass
class TransitionRequest:
    code: str
    opinion: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    attachments: list[int] = field(default_factory=list)
    expected_version: int | None = None


@dataclass
class TransitionPlan:
    mech: Mechanism
    case: Case
    definition: TransitionDef
    role: str
    opinion: str
    data: dict[str, Any]
    attachments: list[Attachment]
    unit: Unit | None = None
    sets: dict[str, str] = field(default_factory=dict)
    extend_by: Duration | None = None
    co_units: list[Unit] | None = None
    master: Case | None = None
    # The role and node the person acts through (None for a plan re-checked at approval).
    acting: Acting | None = None
    # The state the transition leads to (`to`, or the previous state for `to_previous`); None: stays.
    target: str | None = None
    # Whether it goes through its approval (`approval`, and `approval.when` holds for the outcome).
    needs_approval: bool = False


def get_case(user: User, case_id: int | str, action: str = "view", *, code: str | None = None) -> Case:
    """A case by id or number through the permission-aware queryset; 404 when not visible.

    To act (`action="act"`) the case comes with its parties and the person's roles in one statement
    (`fetch.fetch_for_acting`, the same visibility rule); `code` names the transition about to be taken,
    whose `distinct_from` actor then comes along.
    """
    if action == "act":
        found = fetch_for_acting(user, case_lookup(case_id), code)
        if found is None:
            raise not_found()
        return found
    qs = Case.objects.for_user(user, action, one=True).select_related("division", "unit", "reporter")
    qs = qs.prefetch_related(with_parties())  # a page shows the parties' names
    try:
        return qs.get(**case_lookup(case_id))
    except Case.DoesNotExist:
        raise not_found() from None


def case_lookup(case_id: int | str) -> dict[str, int | str]:
    """{"pk": id} for an id or a string of ASCII digits ("²" is a digit int() refuses), else {"number": …}."""
    if isinstance(case_id, str) and not (case_id.isascii() and case_id.isdigit()):
        return {"number": case_id}
    return {"pk": int(case_id)}


def acting_for(user: User, case: Case, allowed: list[str]) -> Acting | None:
    """The first allowed role spec (in the mechanism's order) the person holds over this case's parties."""
    readers = get_mechanism(case.mechanism).definition.parties.place_readers
    return pick_acting(user, allowed, parties_of(case), case.reporter_id, readers)


def pick_role(user: User, case: Case, allowed: list[str]) -> str | None:
    """The spec of `acting_for` (`verifier@supervisor`, `handler`), or None."""
    found = acting_for(user, case, allowed)
    return found.spec if found is not None else None


def available_transitions(user: User, case: Case) -> list[tuple[TransitionDef, str]]:
    """Transitions the person may start now (content requirements aside), with the role they act in."""
    mech = get_mechanism(case.mechanism)
    out = []
    for t in mech.transitions_from(case.state):
        role = pick_role(user, case, t.roles)
        if role is None:
            continue
        if not condition_met(mech, t, case, None):
            continue
        if t.approval and case.pending:
            continue
        if t.once and already_taken(case, t.code):
            continue
        out.append((t, role))
    return out


def already_taken(case: Case, code: str) -> bool:
    """Whether the case's history already holds the transition (for those allowed `once`)."""
    return case.transitions.filter(code=code, kind__in=["transition", "approve"]).exists()


def last_actor_of(case: Case, codes: list[str], code: str | None = None) -> int | None:
    """Who last took one of `codes` (read with the case by the acting fetch for transition `code`)."""
    kept = getattr(case, "_last_actor", None)
    if code is not None and kept is not None and kept[0] == code:
        return kept[1]
    rows = case.transitions.filter(code__in=codes, kind__in=["transition", "approve"]).order_by("-seq")
    return rows.values_list("actor_id", flat=True).first()


def normalised_request(req: TransitionRequest) -> TransitionRequest:
    """The request with its opinion and field values normalised (`taizhang.text`), as stored."""
    return replace(req, opinion=normalise_text(req.opinion or ""), fields=normalise_data(req.fields or {}))


def check_transition(user: User, case: Case, req: TransitionRequest, now=None) -> TransitionPlan:
    """Everything that must hold for the person to take the transition now; raises ActionError."""
    now = now or clock_now()
    req = normalised_request(req)
    mech = get_mechanism(case.mechanism)
    if req.expected_version is not None and req.expected_version != case.version:
        raise conflict("stale_version", f"案件已更新（当前版本 {case.version}），请刷新后重试")
    t = mech.transitions.get(req.code)
    if t is None:
        raise invalid([FieldError("code", "unknown_transition", f"没有名为 {req.code} 的操作")])
    if case.state not in t.from_:
        raise conflict(
            "transition_not_allowed", f"案件当前为「{mech.state_name(case.state)}」，不能执行「{t.name}」"
        )
    acting = acting_for(user, case, t.roles)
    if acting is None:
        raise forbidden("role_not_allowed", f"您的岗位不能执行「{t.name}」")
    check_condition_met(mech, case, t, req.params, req.fields)
    if t.approval and case.pending:
        raise conflict("approval_pending", f"已有待审批的申请「{case.pending.get('name', '')}」，请等待审批")
    if t.before_due and case.due_at is not None and now > case.due_at:
        raise conflict("deadline_passed", f"「{t.name}」须在截止时间前提出，现已超期")
    if t.after_due and case.due_at is not None and now <= case.due_at:
        raise conflict("deadline_not_reached", f"「{t.name}」须在期限届满后办理，现未届满")
    if t.once and already_taken(case, t.code):
        raise conflict("already_taken", f"「{t.name}」只能办理一次，本案件已办理过")
    check_window(mech, case, t, now)
    if t.distinct_from and last_actor_of(case, t.distinct_from, t.code) == user.pk:
        raise forbidden("same_person", f"「{t.name}」须由办理上一环节以外的人员办理")
    plan = check_content(mech, case, t, acting.spec, req, user)
    plan.acting = acting
    return plan


def check_content(
    mech: Mechanism,
    case: Case,
    t: TransitionDef,
    role: str,
    req: TransitionRequest,
    user: User,
    prior_photos: int = 0,
) -> TransitionPlan:
    """Opinion, photos, form fields and parameters the transition requires, all errors at once."""
    refuse_nul(opinion=req.opinion, fields=req.fields, params=req.params)
    errors: list[FieldError] = []
    opinion = (req.opinion or "").strip()
    cleaned, field_errors = clean_fields(mech.fields, req.fields or {})
    errors += field_errors
    errors += reference_errors(user, mech.fields, cleaned)  # a register item the person may see
    after = outcome(mech, t, case, req.params or {}, cleaned)  # computed values and band results included
    data = after.data
    need_opinion, need_photos, need_fields = t.opinion, t.photos, list(t.fields)
    for r in requirements(mech, t, after.facts):
        need_opinion = need_opinion or r.opinion
        need_photos = max(need_photos, r.photos)
        need_fields += r.fields
    if need_opinion and not opinion:
        errors.append(FieldError("opinion", "required", f"「{t.name}」须填写意见"))
    files, file_errors = usable_attachments(user, case, req.attachments)
    errors += file_errors
    photos = prior_photos + sum(a.content_type.startswith("image/") for a in files)
    if need_photos and photos < need_photos:
        errors.append(
            FieldError("attachments", "photos_required", f"「{t.name}」须上传至少 {need_photos} 张照片")
        )
    errors += missing_fields(mech.fields, data, need_fields)
    plan = TransitionPlan(mech, case, t, role, opinion, data, files)
    plan.target = target_state(mech, case, t, errors)
    params = req.params or {}
    if t.assign:
        plan.unit = check_unit(params.get("unit"), t.assign, errors)
        if t.assign_above and plan.unit is not None:
            check_level_above(case, plan.unit, errors)
    for attr in t.sets:
        value = params.get(attr)
        if value in (None, ""):
            continue
        if attr in ("grade", "category") and value not in {
            c.code for c in getattr(mech.definition, "grades" if attr == "grade" else "categories")
        }:
            errors.append(
                FieldError(
                    f"params.{attr}",
                    "invalid_choice",
                    f"无效的{'等级' if attr == 'grade' else '类别'}：{value}",
                )
            )
        else:
            plan.sets[attr] = str(value)
    if after.grade is not None:
        plan.sets["grade"] = after.grade  # a band table's grade stands over one typed in the same step
    plan.needs_approval = approval_needed(mech, t, after.facts)
    plan.co_units = check_co_units(t, params, plan.unit or case.unit, errors)
    plan.master = check_master(user, case, t, params, errors)
    if t.deadline == "extend":
        plan.extend_by = check_extension(params.get("extend_by"), case, errors, t)
    if errors:
        raise invalid(errors)
    return plan


def check_unit(code: Any, assign: str | None, errors: list[FieldError]) -> Unit | None:
    """The unit named by `params.unit`, of the kind the transition's `assign` asks for."""
    if not code:
        errors.append(FieldError("params.unit", "required", "请选择责任单位"))
        return None
    unit = Unit.objects.filter(code=str(code)).first()
    if unit is None:
        errors.append(FieldError("params.unit", "unknown_unit", f"没有编码为 {code} 的单位"))
    elif (problem := unit_kind_error(unit, assign)) is not None:
        errors.append(problem)
    return unit


def check_level_above(case: Case, unit: Unit, errors: list[FieldError]) -> None:
    """复查 and 复核 go to the body one level above the one that decided (信访工作条例)."""
    if case.unit is None:
        errors.append(
            FieldError("params.unit", "no_deciding_unit", "案件没有作出决定的责任单位，无法确定上一级机关")
        )
    elif not one_level_above(case.unit, unit):
        errors.append(
            FieldError("params.unit", "not_level_above", f"{unit.name}不是{case.unit.name}的上一级机关")
        )


def execute(
    plan: TransitionPlan,
    actor: User,
    role: str,
    now,
    recorder: Recorder,
    kind: str = "transition",
    extra: dict | None = None,
    opinion: str | None = None,
) -> None:
    """Apply a checked plan to the case and append its history row."""
    case, t = plan.case, plan.definition
    before, old_data = snapshot(case), case.data or {}
    from_state = case.state
    case.data = plan.data
    for attr, value in plan.sets.items():
        setattr(case, attr, value)
    if plan.unit is not None and t.assigns_lead:
        case.unit, case.person = plan.unit, None
    if t.clears_unit:
        case.unit, case.person = None, None
    if plan.master is not None:
        case.merged_into = plan.master
    # A move to another state makes a waiting request lapse; 催办 and 监督标记 (no `to`) leave it waiting.
    lapsed = case.pending if (case.pending and t.moves and kind == "transition") else None
    if kind == "approve" or lapsed:
        case.pending = None
    moved = {k for k in {*old_data, *case.data} if old_data.get(k) != case.data.get(k)}  # form fields changed
    apply_deadline(plan.mech, case, plan.target or case.state, t.deadline, now, plan.extend_by, t, moved)
    if case.state_kind == "closed" and case.closed_at is None:
        case.closed_at = now
    changes = diff(before, snapshot(case))
    if plan.extend_by is not None:
        changes["extend_by"] = [None, str(plan.extend_by)]
    if t.assigns_lead and plan.unit is not None:
        changes.update(hand_over(case, plan.unit, plan.acting, now))
    elif t.clears_unit:
        changes.update(hand_over(case, None, None, now))
    elif t.assign == "enforcement_unit" and plan.unit is not None:
        changes.update(join_enforcement(case, plan.unit, now))
    if t.ends_enforcement:
        changes.update(end_enforcement(case))
    changes.update(set_co_units(case, plan.co_units, now))
    if plan.master is not None:
        changes["merged_into"] = [None, plan.master.number]
    if lapsed:
        changes["pending_lapsed"] = [lapsed.get("code"), None]
    changes.update(extra or {})
    recorder.add(
        kind=kind,
        code=t.code,
        name=t.name if kind == "transition" else f"{t.name}（批准）",
        actor=actor,
        role=role,
        from_state=from_state,
        to_state=case.state,
        at=now,
        opinion=plan.opinion if opinion is None else opinion,
        changes=changes,
        public=t.public,
        attachments=plan.attachments,
    )


def do_transition(user: User, case_id: int | str, req: TransitionRequest) -> Case:
    """Take a transition (or file it for approval) in one transaction; 409 if someone acted first."""
    req = normalised_request(req)  # request_approval keeps its fields in the case's pending request
    with transaction.atomic():
        case = get_case(user, case_id, "act", code=req.code)
        now = clock_now()
        plan = check_transition(user, case, req, now)
        recorder = Recorder(case)
        try:
            if plan.needs_approval:
                check_link_request(plan, req.params)  # links.py: what the approval will need, checked now
                request_approval(plan, user, now, recorder, req)
            else:
                # Linked cases (links.py): the children guard, then the cases `spawn` opens, named in the row.
                execute(plan, user, plan.role, now, recorder, extra=link_effects(plan, req.params, user, now))
        except ClockError as exc:
            raise ActionError(exc.code, exc.message, 422) from None
        recorder.commit()
        if not plan.needs_approval:
            finish_effects(plan, user, plan.role, now)
    return case


def finish_effects(plan: TransitionPlan, actor: User, role: str, now) -> None:
    """What a transition does to other cases, in the same transaction: the master of a 并单 records it,
    and an answer is copied to the cases merged into this one."""
    t, case = plan.definition, plan.case
    if plan.master is not None:
        record_merge(case, plan.master, actor, role, now, plan.opinion)
    if t.notify_merged:
        last = case.transitions.order_by("-seq").first()
        copy_to_merged(case, t, actor, role, now, plan.opinion, last.changes if last else {})


def request_approval(
    plan: TransitionPlan, user: User, now, recorder: Recorder, req: TransitionRequest
) -> None:
    t, case = plan.definition, plan.case
    case.pending = {
        "code": t.code,
        "name": t.name,
        "approval": t.approval.name,
        "by": user.pk,
        "by_name": str(user),
        "role": plan.role,
        "at": now.isoformat(),
        "opinion": plan.opinion,
        "fields": req.fields or {},
        "params": req.params or {},
        "attachments": [a.pk for a in plan.attachments],
    }
    recorder.add(
        kind="request",
        code=t.code,
        name=f"{t.name}（提请{t.approval.name}）",
        actor=user,
        role=plan.role,
        from_state=case.state,
        to_state=case.state,
        at=now,
        opinion=plan.opinion,
        changes={"pending": [None, t.code], **({"params": [None, req.params]} if req.params else {})},
        public=t.public,
        attachments=plan.attachments,
    )
