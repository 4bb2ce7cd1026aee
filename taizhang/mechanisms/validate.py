"""Checks beyond the shape: every name a mechanism uses must exist and every state must be reachable."""

from __future__ import annotations

from collections import deque
from typing import Any

from pydantic import BaseModel, ValidationError

from taizhang.clock.clock import Duration
from taizhang.errors import pydantic_message
from taizhang.org.roles import MECHANISM_ROLES, SYSTEM

from .errors import MechanismError, Problem
from .schema import Condition, Limit, MechanismDef, PackDef, Supervision
from .yamlfile import LinedData


def parse_model(lined: LinedData, model: type[BaseModel]) -> Any:
    """Validate the shape; every pydantic error becomes a Problem on the right line."""
    try:
        return model.model_validate(lined.data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            problems.append(lined.problem(tuple(err["loc"]), pydantic_message(err)))
        raise MechanismError(problems) from None


def check_duration(text: str, lined: LinedData, path: tuple, problems: list[Problem]) -> None:
    try:
        Duration.parse(text)
    except ValueError as exc:
        problems.append(lined.problem(path, f"时限无效：{exc}"))


def check_condition(
    cond: Condition | None, mech: MechanismDef, lined: LinedData, path: tuple, problems: list[Problem]
) -> None:
    if cond is None:
        return
    known = {
        "grade": {c.code for c in mech.grades},
        "category": {c.code for c in mech.categories},
        "channel": {c.code for c in mech.channels},
    }
    for attr, allowed in known.items():
        for i, code in enumerate(getattr(cond, attr) or []):
            if code not in allowed:
                problems.append(lined.problem((*path, attr, i), f"未知的{ATTR_LABEL[attr]} '{code}'"))


ATTR_LABEL = {"grade": "等级", "category": "类别", "channel": "渠道", "state": "状态"}


def check_limits(
    limits: list[Limit], mech: MechanismDef, lined: LinedData, base: tuple, problems: list[Problem]
) -> None:
    states = {s.code: s for s in mech.states}
    known = {
        "grade": {c.code for c in mech.grades},
        "category": {c.code for c in mech.categories},
        "channel": {c.code for c in mech.channels},
    }
    seen: set[tuple] = set()
    for i, limit in enumerate(limits):
        path = (*base, i)
        if limit.state not in states:
            problems.append(lined.problem((*path, "state"), f"未知的状态 '{limit.state}'"))
        elif states[limit.state].kind == "closed":
            problems.append(lined.problem((*path, "state"), f"终态 '{limit.state}' 不能设时限"))
        for attr, allowed in known.items():
            value = getattr(limit, attr)
            if value is not None and value not in allowed:
                problems.append(lined.problem((*path, attr), f"未知的{ATTR_LABEL[attr]} '{value}'"))
        check_duration(limit.limit, lined, (*path, "limit"), problems)
        key = (limit.state, limit.grade, limit.category, limit.channel)
        if key in seen:
            problems.append(lined.problem(path, "与前面的时限条件完全相同"))
        seen.add(key)


def check_supervision(
    items: list[Supervision], mech: MechanismDef, lined: LinedData, base: tuple, problems: list[Problem]
) -> None:
    states = {s.code for s in mech.states}
    for i, sup in enumerate(items):
        path = (*base, i)
        if sup.state is not None and sup.state not in states:
            problems.append(lined.problem((*path, "state"), f"未知的状态 '{sup.state}'"))
        for j, text in enumerate(sup.remind_before):
            check_duration(text, lined, (*path, "remind_before", j), problems)
        for j, esc in enumerate(sup.escalate):
            check_duration(esc.after, lined, (*path, "escalate", j, "after"), problems)


def check_roles(roles: list[str], lined: LinedData, path: tuple, problems: list[Problem]) -> None:
    for i, role in enumerate(roles):
        if role not in MECHANISM_ROLES:
            known = "、".join(sorted(MECHANISM_ROLES))
            problems.append(lined.problem((*path, i), f"未知的角色 '{role}'（可用：{known}）"))


def validate_mechanism(lined: LinedData) -> MechanismDef:
    """The mechanism definition, or MechanismError listing every problem with file, line and field."""
    mech: MechanismDef = parse_model(lined, MechanismDef)
    problems: list[Problem] = []
    states = {s.code: s for s in mech.states}
    fields = {f.name for f in mech.fields}

    for attr in ("states", "transitions", "categories", "grades", "channels", "fields"):
        seen: set[str] = set()
        for i, item in enumerate(getattr(mech, attr)):
            code = getattr(item, "code", None) or getattr(item, "name", None)
            key = "name" if attr == "fields" else "code"
            if code in seen:
                problems.append(lined.problem((attr, i, key), f"重复的编码 '{code}'"))
            seen.add(code)
    for i, field in enumerate(mech.fields):
        if field.type in ("choice", "multichoice") and not field.choices:
            problems.append(lined.problem(("fields", i, "choices"), "选择型字段必须列出选项"))

    if mech.intake.initial not in states:
        problems.append(lined.problem(("intake", "initial"), f"未知的状态 '{mech.intake.initial}'"))
    check_roles(mech.intake.roles, lined, ("intake", "roles"), problems)
    channels = {c.code for c in mech.channels}
    for role, channel in mech.intake.channel_by_role.items():
        check_roles([role], lined, ("intake", "channel_by_role"), problems)
        if channel not in channels:
            problems.append(lined.problem(("intake", "channel_by_role", role), f"未知的渠道 '{channel}'"))
    if not any(s.kind == "closed" for s in mech.states):
        problems.append(lined.problem(("states",), "至少要有一个终态（kind: closed）"))

    codes = {t.code for t in mech.transitions}
    for i, t in enumerate(mech.transitions):
        path = ("transitions", i)
        for j, src in enumerate(t.from_):
            if src not in states:
                problems.append(lined.problem((*path, "from", j), f"未知的状态 '{src}'"))
        if t.to is not None and t.to not in states:
            problems.append(lined.problem((*path, "to"), f"未知的状态 '{t.to}'"))
        check_roles(t.roles, lined, (*path, "roles"), problems)
        if t.approval:
            check_roles(t.approval.roles, lined, (*path, "approval", "roles"), problems)
            if SYSTEM in t.approval.roles:
                problems.append(lined.problem((*path, "approval", "roles"), "审批不能由系统完成"))
        for j, name in enumerate(t.fields):
            if name not in fields:
                problems.append(lined.problem((*path, "fields", j), f"未知的表单字段 '{name}'"))
        for j, req in enumerate(t.require):
            check_condition(req.when, mech, lined, (*path, "require", j, "when"), problems)
            for k, name in enumerate(req.fields):
                if name not in fields:
                    problems.append(lined.problem((*path, "require", j, "fields", k), f"未知的表单字段 '{name}'"))
        check_condition(t.only_if, mech, lined, (*path, "only_if"), problems)
        for j, other in enumerate(t.distinct_from):
            if other not in codes:
                problems.append(lined.problem((*path, "distinct_from", j), f"未知的流转 '{other}'"))
        if t.deadline == "extend" and t.to is not None:
            problems.append(lined.problem((*path, "deadline"), "延期（extend）不能同时改变状态"))
        if t.deadline == "resume" and not any(states.get(s) and states[s].clock == "stopped" for s in t.from_):
            problems.append(lined.problem((*path, "deadline"), "resume 只能从停表（clock: stopped）的状态出发"))

    check_limits(mech.time_limits, mech, lined, ("time_limits",), problems)
    check_supervision(mech.supervision, mech, lined, ("supervision",), problems)

    if not problems:
        problems.extend(check_graph(mech, lined))
    if problems:
        raise MechanismError(problems)
    return mech


def check_graph(mech: MechanismDef, lined: LinedData) -> list[Problem]:
    """Every state reachable from the initial state; every state that is not closed has a way out."""
    problems = []
    edges: dict[str, set[str]] = {s.code: set() for s in mech.states}
    for t in mech.transitions:
        if t.to is not None:
            for src in t.from_:
                edges[src].add(t.to)
    reached, queue = {mech.intake.initial}, deque([mech.intake.initial])
    while queue:
        for nxt in edges[queue.popleft()]:
            if nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    for i, state in enumerate(mech.states):
        if state.code not in reached:
            problems.append(lined.problem(("states", i, "code"), f"状态 '{state.code}' 从初始状态不可达"))
        elif state.kind != "closed" and not (edges[state.code] - {state.code}):
            problems.append(lined.problem(("states", i, "code"), f"非终态 '{state.code}' 没有出口流转"))
    return problems


def validate_pack(lined: LinedData, mechanisms: dict[str, MechanismDef]) -> PackDef:
    """A rule pack may only override numbers (time limits, reminders, escalation) of known mechanisms."""
    pack: PackDef = parse_model(lined, PackDef)
    problems: list[Problem] = []
    for code, override in pack.mechanisms.items():
        mech = mechanisms.get(code)
        if mech is None:
            problems.append(lined.problem(("mechanisms", code), f"未知的机制 '{code}'"))
            continue
        check_limits(override.time_limits, mech, lined, ("mechanisms", code, "time_limits"), problems)
        check_supervision(override.supervision, mech, lined, ("mechanisms", code, "supervision"), problems)
    if problems:
        raise MechanismError(problems)
    return pack
