"""Checks beyond the shape: every name a mechanism uses must exist, every state must be reachable and
lead to a closed state, and every rule must be one the engine can act on."""

from __future__ import annotations

from collections import deque
from typing import Any

from taizhang.clock.clock import Duration
from taizhang.mechanisms.fieldvalues import clean_value
from taizhang.org.roles import REPORTER, SYSTEM

from .errors import MechanismError, Problem
from .roles import check_role_defs, check_spec, platform_roles, split_spec
from .schema import KpiRules, Limit, MechanismDef, RoleDef, Supervision
from .validate_links import check_links
from .validate_notices import check_notices
from .validate_public import check_public
from .validate_shape import allowed_keys, parse_model, shape_message  # noqa: F401 (imported from here)
from .validate_values import ATTR_LABEL, check_condition, check_values, unknown, unknown_field  # noqa: F401
from .yamlfile import LinedData

# -- shared checks ------------------------------------------------------------------------------------


def check_duration(
    text: str, lined: LinedData, path: tuple, problems: list[Problem], positive: bool = False
) -> Duration | None:
    try:
        duration = Duration.parse(text)
    except ValueError as exc:
        problems.append(lined.problem(path, f"时限无效：{exc}"))
        return None
    if positive and duration.amount == 0:
        problems.append(lined.problem(path, f"时限须大于零：'{text}'"))
        return None
    return duration


def choice_codes(mech: MechanismDef) -> dict[str, set[str]]:
    return {
        "grade": {c.code for c in mech.grades},
        "category": {c.code for c in mech.categories},
        "channel": {c.code for c in mech.channels},
    }


def check_limits(
    limits: list[Limit], mech: MechanismDef, lined: LinedData, base: tuple, problems: list[Problem]
) -> None:
    states = {s.code: s for s in mech.states}
    known = choice_codes(mech)
    seen: set[tuple] = set()
    for i, limit in enumerate(limits):
        path = (*base, i)
        if limit.state not in states:
            problems.append(lined.problem((*path, "state"), unknown("state", limit.state, set(states))))
        elif states[limit.state].kind == "closed":
            problems.append(lined.problem((*path, "state"), f"终态 '{limit.state}' 不能设时限"))
        for attr, allowed in known.items():
            value = getattr(limit, attr)
            if value is not None and value not in allowed:
                problems.append(lined.problem((*path, attr), unknown(attr, value, allowed)))
        from .validate_deadlines import check_limit_basis  # it uses this module's checks

        check_limit_basis(limit, mech, lined, path, problems)
        check_condition(limit.when, mech, lined, (*path, "when"), problems)
        key = (limit.state, limit.grade, limit.category, limit.channel, repr(limit.when))
        if key in seen:
            problems.append(lined.problem(path, "与前面的时限条件完全相同（后一条永远不会生效）"))
        seen.add(key)


def check_supervision(
    items: list[Supervision], mech: MechanismDef, lined: LinedData, base: tuple, problems: list[Problem]
) -> None:
    states = {s.code: s for s in mech.states}
    seen: set[tuple] = set()
    for i, sup in enumerate(items):
        path = (*base, i)
        if sup.state is not None and sup.state not in states:
            problems.append(lined.problem((*path, "state"), unknown("state", sup.state, set(states))))
        elif sup.state is not None and states[sup.state].kind == "closed":
            problems.append(lined.problem((*path, "state"), f"终态 '{sup.state}' 没有时限，不能设催办督办"))
        # The same state may have several entries under different conditions (`when`: 分级督办).
        key = (sup.state, sup.when.model_dump_json() if sup.when else None)
        if key in seen:
            which = f" state 为 '{sup.state}' " if sup.state else "不写 state（适用于所有状态）"
            cond = "且条件（when）相同" if sup.when else ""
            problems.append(lined.problem(path, f"前面已有{which}{cond}的督办规则，本条永远不会生效"))
        seen.add(key)
        check_condition(sup.when, mech, lined, (*path, "when"), problems)
        for j, text in enumerate(sup.remind_before):
            check_duration(text, lined, (*path, "remind_before", j), problems, positive=True)
        previous: tuple[Duration | None, int] | None = None
        for j, esc in enumerate(sup.escalate):
            after = check_duration(esc.after, lined, (*path, "escalate", j, "after"), problems)
            if previous is not None:
                before_after, before_levels = previous
                if esc.levels <= before_levels:
                    problems.append(
                        lined.problem(
                            (*path, "escalate", j, "levels"),
                            f"督办层级应逐条递增（前一条已是 {before_levels} 级，本条不会生效）",
                        )
                    )
                elif (
                    after
                    and before_after
                    and after.unit == before_after.unit
                    and after.amount <= before_after.amount
                ):
                    problems.append(
                        lined.problem(
                            (*path, "escalate", j, "after"), f"督办时间应逐条递增（前一条为 {before_after}）"
                        )
                    )
            previous = (after, esc.levels)


KPI_KEYS = ("weights", "basic_score", "sign_hours", "close_days", "dispatch", "sign")
SATISFACTION = ("satisfied", "basic", "unsatisfied")


def check_kpi(
    kpi: KpiRules | None,
    mech: MechanismDef,
    lined: LinedData,
    base: tuple,
    problems: list[Problem],
    complete: bool,
) -> None:
    """考核规则: the 三率 weights sum to 100, 基本满意 scores 0–1, the windows are positive; `complete`:
    every key must be written (a mechanism's rules; a pack may leave out what it does not override)."""
    if kpi is None:
        return
    missing = [key for key in KPI_KEYS if getattr(kpi, key) is None]
    if complete and missing:
        problems.append(lined.problem(base, f"考核规则缺少 {'、'.join(missing)}"))
    if kpi.weights is not None:
        w = kpi.weights
        total = w.response + w.resolution + w.satisfaction
        if total != 100:
            problems.append(
                lined.problem((*base, "weights"), f"响应率、解决率、满意率的权重之和须为 100（现为 {total}）")
            )
    if kpi.basic_score is not None and not 0 <= kpi.basic_score <= 1:
        problems.append(
            lined.problem(
                (*base, "basic_score"), f"基本满意的折算分须在 0 到 1 之间（现为 {kpi.basic_score}）"
            )
        )
    codes = {t.code for t in mech.transitions}
    for key, label in (("dispatch", "派单"), ("sign", "签收")):
        value = getattr(kpi, key)
        if value is not None and value not in codes:
            problems.append(
                lined.problem((*base, key), f"考核所依据的{label}流转 '{value}' 不是本机制的流转")
            )
    for key, label in (("sign_hours", "签收时限（小时）"), ("close_days", "办结时限（天）")):
        if getattr(kpi, key) == 0:
            problems.append(lined.problem((*base, key), f"{label}须大于零"))
    field = next((f for f in mech.fields if f.name == "satisfaction"), None)
    if field is None or field.type != "choice" or not set(SATISFACTION) <= {c.code for c in field.choices}:
        problems.append(
            lined.problem(
                base,
                f"考核满意率须有 choice 字段 satisfaction，选项含 {'、'.join(SATISFACTION)}（机制 {mech.code} 没有）",
            )
        )


def check_roles(
    roles: list[str],
    mech: MechanismDef,
    known: dict[str, RoleDef],
    lined: LinedData,
    path: tuple,
    problems: list[Problem],
) -> None:
    for i, spec in enumerate(roles):
        problem = check_spec(spec, mech, known, lined, (*path, i))
        if problem is not None:
            problems.append(problem)


def check_place_readers(
    mech: MechanismDef, known: dict[str, RoleDef], lined: LinedData, problems: list[Problem]
) -> None:
    """`parties.place_readers` names known roles, and every role a transition names on the case's place
    (`role@place`, or bare for a role held on a division) reads through it: else it could never act."""
    readers = mech.parties.place_readers
    if readers is None:
        return
    for i, role in enumerate(readers):
        if role not in known:
            problems.append(lined.problem(("parties", "place_readers", i), f"未知的角色 '{role}'"))
    for i, t in enumerate(mech.transitions):
        lists = [(("transitions", i, "roles"), t.roles)]
        if t.approval:
            lists.append((("transitions", i, "approval", "roles"), t.approval.roles))
        for base, specs in lists:
            for j, spec in enumerate(specs):
                role, party = split_spec(spec)
                found = known.get(role)
                on_place = party == "place" or (
                    party is None
                    and found is not None
                    and "division" in found.held_on
                    and not (found.reads_everything or found.acts_for_self_only)
                )
                if on_place and role not in readers:
                    problems.append(
                        lined.problem(
                            (*base, j), f"角色 '{role}' 在所在区划办理此流转，须列入 parties.place_readers"
                        )
                    )


def check_role_flags(
    mech: MechanismDef, known: dict[str, RoleDef], lined: LinedData, problems: list[Problem]
) -> None:
    """A role that may only flag and urge is given no transition that moves a case and no approval."""
    for i, t in enumerate(mech.transitions):
        for j, spec in enumerate(t.roles):
            role = known.get(split_spec(spec)[0])
            if role is not None and role.flag_and_urge_only and (t.moves or t.approval):
                problems.append(
                    lined.problem(
                        ("transitions", i, "roles", j),
                        f"角色 '{role.code}' 只能标记和催办，不能办理改变状态或需审批的「{t.name}」",
                    )
                )
        for j, spec in enumerate(t.approval.roles if t.approval else []):
            role = known.get(split_spec(spec)[0])
            if role is not None and role.flag_and_urge_only:
                problems.append(
                    lined.problem(
                        ("transitions", i, "approval", "roles", j),
                        f"角色 '{role.code}' 只能标记和催办，不能审批",
                    )
                )


# -- mechanism ----------------------------------------------------------------------------------------


def check_deadline_rules(mech: MechanismDef, lined: LinedData, problems: list[Problem]) -> None:
    from .validate_deadlines import check_deadline_rules as check  # it uses this module's checks

    check(mech, lined, problems)


def validate_mechanism(lined: LinedData, platform: tuple[RoleDef, ...] | None = None) -> MechanismDef:
    """The mechanism definition, or MechanismError listing every problem with file, line and field.

    `platform`: the platform's roles (read from the roles file when not given).
    """
    mech: MechanismDef = parse_model(lined, MechanismDef)
    platform = platform_roles() if platform is None else platform
    problems: list[Problem] = check_role_defs(mech.roles, lined, ("roles",), {r.code for r in platform})
    known: dict[str, RoleDef] = {**{r.code: r for r in mech.roles}, **{r.code: r for r in platform}}
    states = {s.code: s for s in mech.states}
    fields = {f.name: f for f in mech.fields}

    for attr in ("states", "transitions", "categories", "grades", "channels", "fields"):
        key = "name" if attr == "fields" else "code"
        check_unique([getattr(item, key) for item in getattr(mech, attr)], lined, (attr,), key, problems)
    check_fields(mech, lined, problems)
    check_intake(mech, known, lined, problems)
    if not any(s.kind == "closed" for s in mech.states):
        problems.append(lined.problem(("states",), "至少要有一个终态（kind: closed）"))
    check_transitions(mech, known, lined, problems, states, fields)
    check_role_flags(mech, known, lined, problems)
    check_place_readers(mech, known, lined, problems)
    check_limits(mech.time_limits, mech, lined, ("time_limits",), problems)
    check_supervision(mech.supervision, mech, lined, ("supervision",), problems)
    check_deadline_rules(mech, lined, problems)
    check_kpi(mech.kpi, mech, lined, ("kpi",), problems, complete=True)
    check_public(mech, lined, problems)
    check_links(mech, lined, problems)
    check_notices(mech, lined, problems)
    check_values(mech, lined, problems)

    if not problems:
        problems.extend(check_graph(mech, lined))
    if problems:
        raise MechanismError(problems)
    return mech


def check_unique(codes: list[str], lined: LinedData, base: tuple, key: str, problems: list[Problem]) -> None:
    seen: set[str] = set()
    for i, code in enumerate(codes):
        if code in seen:
            problems.append(lined.problem((*base, i, key), f"重复的编码 '{code}'"))
        seen.add(code)


def check_fields(mech: MechanismDef, lined: LinedData, problems: list[Problem]) -> None:
    for i, field in enumerate(mech.fields):
        path = ("fields", i)
        if field.type in ("choice", "multichoice"):
            if not field.choices:
                problems.append(lined.problem((*path, "choices"), "选择型字段必须列出选项"))
            check_unique([c.code for c in field.choices], lined, (*path, "choices"), "code", problems)
        elif field.choices:
            problems.append(
                lined.problem(
                    (*path, "choices"),
                    f"只有 choice 或 multichoice 字段才能列出选项（本字段为 {field.type}）",
                )
            )
        if field.max_length is not None and field.type not in ("text", "textarea"):
            problems.append(
                lined.problem(
                    (*path, "max_length"), f"只有 text 或 textarea 字段才能限制长度（本字段为 {field.type}）"
                )
            )


def check_intake(
    mech: MechanismDef, known: dict[str, RoleDef], lined: LinedData, problems: list[Problem]
) -> None:
    states = {s.code: s for s in mech.states}
    intake = mech.intake
    if intake.initial not in states:
        problems.append(lined.problem(("intake", "initial"), unknown("state", intake.initial, set(states))))
    elif states[intake.initial].kind == "closed":
        problems.append(lined.problem(("intake", "initial"), f"初始状态 '{intake.initial}' 不能是终态"))
    check_roles(intake.roles, mech, known, lined, ("intake", "roles"), problems)
    for i, role in enumerate(intake.roles):
        if role == REPORTER:
            problems.append(
                lined.problem(("intake", "roles", i), "上报前还没有上报人，reporter 不能作为上报角色")
            )
    channels = {c.code for c in mech.channels}
    for role, channel in intake.channel_by_role.items():
        path = ("intake", "channel_by_role", role)
        problem = check_spec(role, mech, known, lined, path)
        if problem is not None:
            problems.append(problem)
        elif role not in intake.roles:
            problems.append(
                lined.problem(path, f"角色 '{role}' 不在 intake.roles 中，不能上报，此项不会生效")
            )
        if channel not in channels:
            problems.append(lined.problem(path, unknown("channel", channel, channels)))


def check_transitions(
    mech: MechanismDef,
    known: dict[str, RoleDef],
    lined: LinedData,
    problems: list[Problem],
    states: dict,
    fields: dict,
) -> None:
    codes = {t.code for t in mech.transitions}
    for i, t in enumerate(mech.transitions):
        path = ("transitions", i)
        for j, src in enumerate(t.from_):
            if src not in states:
                problems.append(lined.problem((*path, "from", j), unknown("state", src, set(states))))
        if t.to is not None and t.to not in states:
            problems.append(lined.problem((*path, "to"), unknown("state", t.to, set(states))))
        check_roles(t.roles, mech, known, lined, (*path, "roles"), problems)
        if t.roles and all(role == SYSTEM for role in t.roles):
            problems.append(
                lined.problem(
                    (*path, "roles"), "没有人能办理此流转：须至少列出一个人员角色（system 不能办理流转）"
                )
            )
        if t.approval:
            check_roles(t.approval.roles, mech, known, lined, (*path, "approval", "roles"), problems)
            for j, role in enumerate(t.approval.roles):
                if role == SYSTEM:
                    problems.append(lined.problem((*path, "approval", "roles", j), "审批不能由系统完成"))
            check_condition(t.approval.when, mech, lined, (*path, "approval", "when"), problems)
        for j, role in enumerate(t.waiting_for or []):
            if role not in t.roles:
                problems.append(
                    lined.problem(
                        (*path, "waiting_for", j), f"角色 '{role}' 不在本流转的 roles 中，不能把它列为待办"
                    )
                )
        for j, name in enumerate(t.fields):
            if name not in fields:
                problems.append(lined.problem((*path, "fields", j), unknown_field(name, fields)))
        for name, value in t.set_fields.items():
            if name not in fields:
                problems.append(lined.problem((*path, "set_fields", name), unknown_field(name, fields)))
                continue
            _, message = clean_value(fields[name], value)
            if message:
                problems.append(lined.problem((*path, "set_fields", name), f"取值无效：{message}"))
        for j, req in enumerate(t.require):
            check_condition(req.when, mech, lined, (*path, "require", j, "when"), problems)
            for k, name in enumerate(req.fields):
                if name not in fields:
                    problems.append(
                        lined.problem((*path, "require", j, "fields", k), unknown_field(name, fields))
                    )
        check_condition(t.only_if, mech, lined, (*path, "only_if"), problems)
        for j, attr in enumerate(t.sets):
            if attr == "grade" and not mech.grades:
                problems.append(
                    lined.problem((*path, "sets", j), "本机制没有定义等级（grades），不能设置 grade")
                )
        for j, other in enumerate(t.distinct_from):
            if other not in codes:
                problems.append(lined.problem((*path, "distinct_from", j), f"未知的流转 '{other}'"))
        if t.assign_above and t.assign != "unit":
            problems.append(lined.problem((*path, "assign_above"), "assign_above 须与 assign: unit 一起使用"))
        if t.assign and t.clears_unit:
            problems.append(
                lined.problem((*path, "clears_unit"), "不能既指派责任单位（assign）又清除责任单位")
            )
        check_deadline_mode(t, lined, path, states, problems)
        check_to_previous(t, mech, lined, path, states, problems)
        if t.within is not None:
            check_duration(t.within, lined, (*path, "within"), problems, positive=True)


def entries_of(mech: MechanismDef, state: str) -> list[str]:
    """The states other than `state` from which a transition with a `to` enters it, in file order."""
    out: list[str] = []
    for t in mech.transitions:
        if t.to == state:
            out += [s for s in t.from_ if s != state and s not in out]
    return out


def check_to_previous(
    t: Any, mech: MechanismDef, lined: LinedData, path: tuple, states: dict, problems: list[Problem]
) -> None:
    """`to_previous` returns to the state before the current one: there must be more than one such state
    (else `to` says it), and the case must always have one (not the state a report starts in)."""
    if not t.to_previous:
        return
    if t.to is not None:
        problems.append(lined.problem((*path, "to"), "to_previous（返回上一状态）与 to 不能同时设置"))
        return
    for j, src in enumerate(t.from_):
        if src not in states:
            continue
        entries = entries_of(mech, src)
        if src == mech.intake.initial:
            problems.append(
                lined.problem(
                    (*path, "from", j), f"案件上报即处于状态 '{src}'，没有上一状态，不能从此 to_previous"
                )
            )
        elif len(entries) < 2:
            only = f"只能从 '{entries[0]}' 进入" if entries else "没有其他状态的流转进入"
            problems.append(
                lined.problem(
                    (*path, "from", j),
                    f"状态 '{src}' {only}，返回上一状态无需 to_previous，请直接写 to",
                )
            )


def check_deadline_mode(t: Any, lined: LinedData, path: tuple, states: dict, problems: list[Problem]) -> None:
    if t.extend_max is not None:
        if t.deadline != "extend":
            problems.append(
                lined.problem((*path, "extend_max"), "只有延期（deadline: extend）的流转才能设延期上限")
            )
        else:
            check_duration(t.extend_max, lined, (*path, "extend_max"), problems, positive=True)
    if t.after_due and t.before_due:
        problems.append(
            lined.problem(
                (*path, "after_due"), "不能既要求截止前提出（before_due）又要求截止后办理（after_due）"
            )
        )
    if t.deadline == "extend" and t.moves:
        problems.append(lined.problem((*path, "deadline"), "延期（extend）不能同时改变状态"))
    elif not t.moves and t.deadline in ("restart", "resume"):
        problems.append(
            lined.problem(
                (*path, "deadline"),
                f"不改变状态的流转（没有 to）须写 deadline: keep 或 extend，{t.deadline} 会重新计算本状态的时限",
            )
        )
    if t.deadline == "resume" and not any(states.get(s) and states[s].clock == "stopped" for s in t.from_):
        problems.append(lined.problem((*path, "deadline"), "resume 只能从停表（clock: stopped）的状态出发"))


def check_graph(mech: MechanismDef, lined: LinedData) -> list[Problem]:
    """Every state reachable from the initial state; every state that is not closed has a way out and
    some path to a closed state (a loop that never closes is as bad as a dead end)."""
    problems = []
    edges: dict[str, set[str]] = {s.code: set() for s in mech.states}
    for t in mech.transitions:
        if t.to is not None:
            for src in t.from_:
                edges[src].add(t.to)
        elif t.to_previous:
            for src in t.from_:
                edges[src].update(entries_of(mech, src))
    reached = reachable(edges, {mech.intake.initial})
    reverse: dict[str, set[str]] = {s.code: set() for s in mech.states}
    for src, targets in edges.items():
        for dst in targets:
            reverse[dst].add(src)
    can_close = reachable(reverse, {s.code for s in mech.states if s.kind == "closed"})
    for i, state in enumerate(mech.states):
        path = ("states", i, "code")
        if state.code not in reached:
            problems.append(lined.problem(path, f"状态 '{state.code}' 从初始状态不可达"))
        elif state.kind != "closed" and not (edges[state.code] - {state.code}):
            problems.append(lined.problem(path, f"非终态 '{state.code}' 没有出口流转"))
        elif state.code not in can_close:
            problems.append(
                lined.problem(path, f"从状态 '{state.code}' 出发无法到达任何终态，案件会永远无法办结")
            )
    return problems


def reachable(edges: dict[str, set[str]], start: set[str]) -> set[str]:
    seen, queue = set(start), deque(start)
    while queue:
        for nxt in edges[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen
