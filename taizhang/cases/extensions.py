"""延期: the extension a transition asks for (`deadline: extend`), checked against the mechanism's cap
(`extend_max`, or its rule pack's for the case's division) with the extensions already made."""

from __future__ import annotations

from typing import Any

from taizhang.clock.calendar import ClockError
from taizhang.clock.clock import Duration, get_clock
from taizhang.errors import FieldError
from taizhang.mechanisms.registry import get_mechanism
from taizhang.mechanisms.schema import TransitionDef

from .models import Case


def check_extension(
    raw: Any, case: Case, errors: list[FieldError], t: TransitionDef | None = None
) -> Duration | None:
    if case.due_at is None:
        errors.append(FieldError("params.extend_by", "no_deadline", "当前状态没有时限，无需延期"))
        return None
    if raw is None or not str(raw).strip():
        errors.append(FieldError("params.extend_by", "required", "请填写延期时长，例如“3 工作日”"))
        return None
    try:
        extend_by = Duration.parse(str(raw))
    except ValueError as exc:
        errors.append(FieldError("params.extend_by", "invalid_duration", f"延期时长无效：{exc}"))
        return None
    if extend_by.amount <= 0:
        errors.append(FieldError("params.extend_by", "invalid_duration", "延期时长须大于零"))
        return None
    cap = get_mechanism(case.mechanism).transition_rule(t, "extend_max", case.division.path) if t else None
    if t is not None and cap:
        try:
            problem = extension_over_cap(case, t, extend_by, cap)
        except ClockError as exc:
            errors.append(FieldError("params.extend_by", exc.code, exc.message))
            return None
        if problem:
            errors.append(FieldError("params.extend_by", "extension_too_long", problem))
            return None
    return extend_by


def extension_over_cap(case: Case, t: TransitionDef, extend_by: Duration, cap_text: str) -> str | None:
    """Why `extend_by`, with the extensions this transition already made on the case, exceeds `extend_max`.

    The extensions are laid end to end from the current deadline and compared with the cap laid from the
    same point, so a request in another unit than the cap (10 工作日 against 30 天) is measured fairly.
    `cap_text`: the cap for the case's division (the mechanism's `extend_max` or its rule pack's).
    """
    clock, cap = get_clock(), Duration.parse(cap_text)
    done = [
        Duration.parse(row.changes["extend_by"][1])
        for row in case.transitions.filter(code=t.code, kind__in=["transition", "approve"]).order_by("seq")
        if "extend_by" in (row.changes or {})
    ]
    end = case.due_at
    for duration in [*done, extend_by]:
        end = clock.add(end, duration)
    if end <= clock.add(case.due_at, cap):
        return None
    if not done:
        return f"「{t.name}」最多延长{cap}"
    return f"「{t.name}」累计最多延长{cap}，已延长{'、'.join(str(d) for d in done)}"
