"""Checks of linked cases: a transition's `spawn` (cases it opens in another mechanism) and its
`children_closed` guard.

What one file can show is checked with the file (`check_links`); what needs the other mechanism (its
channels, categories, states and fields) when the directory is loaded (`check_spawn_targets`).
"""

from __future__ import annotations

from .errors import Problem
from .schema import MechanismDef, SpawnDef
from .yamlfile import LinedData

# Core attributes of the case a spawned case's form field may be copied from.
COPYABLE = ("title", "description", "address", "category", "grade", "number")


def check_links(mech: MechanismDef, lined: LinedData, problems: list[Problem]) -> None:
    """At most one spawn per transition takes its units from the request, and copies name known values.
    (With an `approval`, the spawn and the children guard happen when the request is approved.)"""
    from .validate import unknown_field  # validate.py calls this: import late

    fields = {f.name: f for f in mech.fields}
    for i, t in enumerate(mech.transitions):
        path = ("transitions", i)
        if sum(s.units == "param" for s in t.spawn) > 1:
            problems.append(
                lined.problem(
                    (*path, "spawn"), "一个流转最多一项 spawn 使用 units: param（单位列表只有一个）"
                )
            )
        for j, spawn in enumerate(t.spawn):
            for target, source in spawn.fields.items():
                if source not in fields and source not in COPYABLE:
                    problems.append(
                        lined.problem(
                            (*path, "spawn", j, "fields", target),
                            f"{unknown_field(source, fields)}；也可复制 {'、'.join(COPYABLE)}",
                        )
                    )


def check_spawn_targets(
    mech: MechanismDef, targets: dict[str, MechanismDef], lined: LinedData, broken: set[str]
) -> list[Problem]:
    """Each `spawn` names a loaded mechanism and, of it, a channel, a category (or the parent's categories
    all exist there), a grade, a state that is not closed and the form fields copied into."""
    problems: list[Problem] = []
    for i, t in enumerate(mech.transitions):
        for j, spawn in enumerate(t.spawn):
            path = ("transitions", i, "spawn", j)
            target = targets.get(spawn.mechanism)
            if target is None:
                if spawn.mechanism not in broken:
                    known = "、".join(sorted(targets))
                    problems.append(
                        lined.problem(
                            (*path, "mechanism"), f"未知的机制 '{spawn.mechanism}'（可用：{known}）"
                        )
                    )
                continue
            problems += target_problems(mech, spawn, target, lined, path)
    return problems


def target_problems(
    mech: MechanismDef, spawn: SpawnDef, target: MechanismDef, lined: LinedData, path: tuple
) -> list[Problem]:
    out: list[Problem] = []
    name = f"机制 '{target.code}'"

    def codes(items) -> str:
        return "、".join(c.code for c in items) or "无"

    if spawn.channel not in {c.code for c in target.channels}:
        out.append(
            lined.problem(
                (*path, "channel"), f"{name}没有渠道 '{spawn.channel}'（可用：{codes(target.channels)}）"
            )
        )
    categories = {c.code for c in target.categories}
    if spawn.category is not None and spawn.category not in categories:
        out.append(
            lined.problem(
                (*path, "category"), f"{name}没有类别 '{spawn.category}'（可用：{codes(target.categories)}）"
            )
        )
    elif spawn.category is None and (
        missing := [c.code for c in mech.categories if c.code not in categories]
    ):
        out.append(
            lined.problem(
                path, f"本机制的类别 {'、'.join(missing)} 在{name}中没有，须写 category 指定新案件的类别"
            )
        )
    if spawn.grade is not None and spawn.grade not in {g.code for g in target.grades}:
        out.append(
            lined.problem((*path, "grade"), f"{name}没有等级 '{spawn.grade}'（可用：{codes(target.grades)}）")
        )
    states = {s.code: s for s in target.states}
    if spawn.state is not None and spawn.state not in states:
        out.append(
            lined.problem((*path, "state"), f"{name}没有状态 '{spawn.state}'（可用：{codes(target.states)}）")
        )
    elif spawn.state is not None and states[spawn.state].kind == "closed":
        out.append(lined.problem((*path, "state"), f"新案件不能从终态 '{spawn.state}' 开始"))
    fields = {f.name for f in target.fields}
    for field in target.fields:
        if field.required and field.name not in spawn.fields:
            out.append(lined.problem((*path, "fields"), f"{name}的必填字段 '{field.name}' 须由 fields 复制"))
    for field in spawn.fields:
        if field not in fields:
            known = "、".join(sorted(fields)) or "无"
            out.append(
                lined.problem((*path, "fields", field), f"{name}没有表单字段 '{field}'（可用：{known}）")
            )
    return out
