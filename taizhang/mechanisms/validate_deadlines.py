"""Checks of the deadline rules beyond their shape: limits counted from or until a date field, total
limits, supervision conditions, 挂牌督办 (`supervise`) and the deadline modes that keep the record."""

from __future__ import annotations

from taizhang.clock.clock import WHOLE_UNITS, Duration

from .errors import Problem
from .schema import Limit, MechanismDef, TotalLimit
from .validate import check_duration, choice_codes, unknown
from .yamlfile import LinedData

DATE_TYPES = ("date", "datetime")


def check_whole(
    duration: Duration | None, text: str, lined: LinedData, path: tuple, problems: list[Problem]
) -> None:
    """工作日 and calendar periods (月, 季度, 半年, 年) are whole numbers: refused at load time, not at the
    first deadline."""
    if duration is not None and duration.unit in WHOLE_UNITS and duration.amount != int(duration.amount):
        problems.append(
            lined.problem(path, f"时限 '{text}' 须为整数（工作日和按月、季度、半年、年计算的时限不能有小数）")
        )


def check_limit_basis(
    limit: Limit | TotalLimit, mech: MechanismDef, lined: LinedData, path: tuple, problems: list[Problem]
) -> None:
    """`limit` is a positive duration, or left out for `until_field`; `from_field` and `until_field` name a
    date or datetime field of the mechanism, and not both."""
    fields = {f.name: f for f in mech.fields}
    for key in ("from_field", "until_field"):
        name = getattr(limit, key)
        if name is None:
            continue
        field = fields.get(name)
        if field is None:
            known = "、".join(f for f, d in fields.items() if d.type in DATE_TYPES) or "本机制没有日期字段"
            problems.append(lined.problem((*path, key), f"未知的日期字段 '{name}'（可用：{known}）"))
        elif field.type not in DATE_TYPES:
            problems.append(
                lined.problem(
                    (*path, key), f"字段 '{name}' 的类型为 {field.type}，时限只能按 date 或 datetime 字段计算"
                )
            )
    if limit.until_field is not None:
        if limit.limit is not None:
            problems.append(
                lined.problem((*path, "limit"), "写了 until_field（截止于日期字段）就不再写 limit")
            )
        if limit.from_field is not None:
            problems.append(lined.problem((*path, "from_field"), "from_field 与 until_field 只能写一个"))
        return
    if limit.limit is None:
        problems.append(lined.problem(path, "缺少 limit（时限），或用 until_field 写明截止日期字段"))
        return
    duration = check_duration(limit.limit, lined, (*path, "limit"), problems, positive=True)
    check_whole(duration, limit.limit, lined, (*path, "limit"), problems)


def check_total_limits(
    limits: list[TotalLimit], mech: MechanismDef, lined: LinedData, base: tuple, problems: list[Problem]
) -> None:
    """Total limits: known codes, a valid basis, no two with the same conditions; a mechanism whose clock
    stops (挂账, 听证) has none, since the total would go on counting while the clock stands still."""
    known = choice_codes(mech)
    seen: set[tuple] = set()
    stopped = [s.code for s in mech.states if s.clock == "stopped"]
    for i, limit in enumerate(limits):
        path = (*base, i)
        if stopped and i == 0:
            problems.append(
                lined.problem(
                    path,
                    f"状态 {'、'.join(stopped)} 停表（clock: stopped），总时限会在停表期间继续计算：有停表状态的机制暂不能设总时限",
                )
            )
        for attr, allowed in known.items():
            value = getattr(limit, attr)
            if value is not None and value not in allowed:
                problems.append(lined.problem((*path, attr), unknown(attr, value, allowed)))
        check_limit_basis(limit, mech, lined, path, problems)
        key = (limit.grade, limit.category, limit.channel)
        if key in seen:
            problems.append(lined.problem(path, "与前面的总时限条件完全相同（后一条永远不会生效）"))
        seen.add(key)


def check_supervise(mech: MechanismDef, lined: LinedData, problems: list[Problem]) -> None:
    """挂牌督办 (`supervise`) and the deadline modes `renew` and `recount`."""
    states = {s.code: s for s in mech.states}
    for i, t in enumerate(mech.transitions):
        path = ("transitions", i)
        if t.deadline == "recount" and t.moves:
            problems.append(
                lined.problem(
                    (*path, "deadline"), "recount 按本状态重新计算时限，只能用于不改变状态的流转（没有 to）"
                )
            )
        if t.deadline == "renew" and not t.moves:
            problems.append(
                lined.problem(
                    (*path, "deadline"), "renew 给新状态一个新的时限，只能用于改变状态的流转（写 to）"
                )
            )
        sup = t.supervise
        if sup is None:
            continue
        for j, code in enumerate(sup.accept_in):
            if code not in states:
                problems.append(
                    lined.problem((*path, "supervise", "accept_in", j), unknown("state", code, set(states)))
                )
            elif states[code].kind == "closed":
                problems.append(
                    lined.problem((*path, "supervise", "accept_in", j), f"终态 '{code}' 没有时限")
                )
        if bool(sup.accept_in) != (sup.accept_within is not None):
            problems.append(
                lined.problem(
                    (*path, "supervise"), "accept_in（验收状态）与 accept_within（验收时限）须同时写明"
                )
            )
        if sup.accept_within is not None:
            duration = check_duration(
                sup.accept_within, lined, (*path, "supervise", "accept_within"), problems, positive=True
            )
            check_whole(duration, sup.accept_within, lined, (*path, "supervise", "accept_within"), problems)


def check_deadline_rules(mech: MechanismDef, lined: LinedData, problems: list[Problem]) -> None:
    """Every deadline rule of a mechanism file beyond what `check_limits` and `check_supervision` see."""
    check_total_limits(mech.total_limits, mech, lined, ("total_limits",), problems)
    check_supervise(mech, lined, problems)
