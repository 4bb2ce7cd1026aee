"""Effects of transitions beyond state and deadline: 协办 units, 并单, and answers copied to merged cases."""

from __future__ import annotations

from typing import Any

from taizhang.errors import FieldError
from taizhang.mechanisms.schema import TransitionDef
from taizhang.org.models import Unit, User

from .models import Case
from .recording import Recorder


def check_co_units(t: TransitionDef, params: dict[str, Any], lead: Unit | None, errors: list[FieldError]):
    """The assisting units named by `params.co_units` (None when the transition takes none)."""
    if not t.co_units:
        return None
    codes = params.get("co_units") or []
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        errors.append(FieldError("params.co_units", "invalid", "协办单位应为单位编码列表"))
        return None
    found = {u.code: u for u in Unit.objects.filter(code__in=codes)}
    for code in codes:
        if code not in found:
            errors.append(FieldError("params.co_units", "unknown_unit", f"没有编码为 {code} 的单位"))
    if lead is not None and lead.code in codes:
        errors.append(
            FieldError("params.co_units", "lead_as_co_unit", f"{lead.name}已是主办单位，不能同时协办")
        )
    return [found[c] for c in dict.fromkeys(codes) if c in found]


def check_master(user: User, case: Case, t: TransitionDef, params: dict[str, Any], errors: list[FieldError]):
    """The master case a duplicate is merged into (None when the transition is not a 并单)."""
    if not t.merge:
        return None
    ref = str(params.get("master") or "").strip()
    if not ref:
        errors.append(FieldError("params.master", "required", "请填写要并入的主案件编号"))
        return None
    master = Case.objects.for_user(user).filter(number=ref).first()
    problem = None
    if master is None:
        problem = ("unknown_case", f"没有编号为 {ref} 的案件或无权查看")
    elif master.pk == case.pk:
        problem = ("merge_into_self", "不能并入自身")
    elif master.mechanism != case.mechanism:
        problem = ("other_mechanism", "只能并入同一类型的案件")
    elif master.state_kind == "closed":
        problem = ("master_closed", f"{ref} 已办结，不能再并入")
    elif master.merged_into_id is not None:
        problem = ("master_merged", f"{ref} 本身已并入其他案件，请并入其主案件")
    if problem:
        errors.append(FieldError("params.master", *problem))
        return None
    return master


def set_co_units(case: Case, units: list[Unit] | None, now) -> dict[str, list]:
    """Replace the case's assisting units (and their parties); returns the change for the history row."""
    from .parties import set_co_parties

    if units is None:
        return {}
    before = sorted(u.code for u in case.co_units.all())
    case.co_units.set(units)
    set_co_parties(case, units, now)
    after = sorted(u.code for u in units)
    return {"co_units": [before, after]} if before != after else {}


def record_merge(case: Case, master: Case, actor: User, role: str, now, opinion: str) -> None:
    """The master's own history row for a duplicate merged into it (a CAS write like any other)."""
    master = Case.objects.select_related("division").get(pk=master.pk)
    merged = [*(master.data or {}).get("merged_from", []), case.number]
    master.data = {**(master.data or {}), "merged_from": merged}
    recorder = Recorder(master)
    recorder.add(
        kind="merge",
        code="merge_in",
        name="并入重复诉求",
        actor=actor,
        role=role,
        from_state=master.state,
        to_state=master.state,
        at=now,
        opinion=opinion,
        changes={"merged_from": [None, case.number]},
    )
    recorder.commit()


def copy_to_merged(
    case: Case, t: TransitionDef, actor: User, role: str, now, opinion: str, changes: dict
) -> int:
    """Copy an answer onto every case merged into this one, so each reporter gets it; returns how many."""
    copied = 0
    answer = {k: v for k, v in changes.items() if k.startswith("fields.")}
    for duplicate in Case.objects.filter(merged_into=case).select_related("division"):
        recorder = Recorder(duplicate)
        recorder.add(
            kind="copy",
            code=t.code,
            name=f"{t.name}（主案件 {case.number}）",
            actor=actor,
            role=role,
            from_state=duplicate.state,
            to_state=duplicate.state,
            at=now,
            opinion=opinion,
            changes={**answer, "from_case": [None, case.number]},
        )
        recorder.commit()
        copied += 1
    return copied
