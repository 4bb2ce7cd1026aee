"""Checks of a register file beyond its shape, and of the references case mechanisms make to registers."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import MechanismError, Problem
from .register_schema import RegisterDef
from .roles import PSEUDO_ROLES, platform_roles, split_spec
from .schema import MechanismDef, RoleDef
from .validate import check_unique
from .validate_shape import parse_model
from .yamlfile import LinedData

# The parties of a register item a role spec may name.
ITEM_PARTIES = ("place", "unit")


def validate_register(lined: LinedData, platform: tuple[RoleDef, ...] | None = None) -> RegisterDef:
    """The register definition, or MechanismError listing every problem with file, line and field."""
    reg: RegisterDef = parse_model(lined, RegisterDef)
    known = {r.code: r for r in (platform_roles() if platform is None else platform)}
    problems: list[Problem] = []
    check_unique([c.code for c in reg.categories], lined, ("categories",), "code", problems)
    check_unique([f.name for f in reg.fields], lined, ("fields",), "name", problems)
    fields = {f.name: f for f in reg.fields}
    for i, f in enumerate(reg.fields):
        path = ("fields", i)
        if f.type in ("choice", "multichoice") and not f.choices:
            problems.append(lined.problem((*path, "choices"), "选择型字段必须列出选项"))
        elif f.type not in ("choice", "multichoice") and f.choices:
            problems.append(
                lined.problem(
                    (*path, "choices"), f"只有 choice 或 multichoice 字段才能列出选项（本字段为 {f.type}）"
                )
            )
        if f.type == "reference" or f.register_ is not None:
            problems.append(
                lined.problem((*path, "type"), "台账的字段不能引用其他台账（reference 只用于案件机制）")
            )
        if f.max_length is not None and f.type not in ("text", "textarea"):
            problems.append(
                lined.problem(
                    (*path, "max_length"), f"只有 text 或 textarea 字段才能限制长度（本字段为 {f.type}）"
                )
            )
    if reg.placement.division == "none" and reg.placement.unit == "none":
        problems.append(
            lined.problem(
                ("placement",), "条目须落在组织树上（division 与 unit 不能都为 none），否则无人可见"
            )
        )
    for action in ("create", "change", "assess"):
        for j, spec in enumerate(getattr(reg.actions, action)):
            why = spec_problem(spec, known, reg)
            if why:
                problems.append(lined.problem(("actions", action, j), why))
    if reg.actions.assess and reg.assessment is None:
        problems.append(lined.problem(("actions", "assess"), "没有 assessment（评估字段），不能设评估角色"))
    if reg.assessment is not None:
        if not reg.actions.assess:
            problems.append(lined.problem(("actions",), "有 assessment 时须在 actions.assess 中写明谁能评估"))
        problems += names_problems(reg.assessment.fields, fields, lined, ("assessment", "fields"))
    problems += names_problems(reg.columns, fields, lined, ("columns",))
    problems += names_problems(reg.personal, fields, lined, ("personal",))
    problems += names_problems(reg.filters, fields, lined, ("filters",))
    for j, name in enumerate(reg.filters):
        if name in fields and fields[name].type != "choice":
            problems.append(
                lined.problem(
                    ("filters", j), f"只有 choice 字段才能作为筛选条件（{name} 为 {fields[name].type}）"
                )
            )
    if problems:
        raise MechanismError(problems)
    return reg


def names_problems(names: Iterable[str], fields: dict, lined: LinedData, base: tuple) -> list[Problem]:
    known = "、".join(fields) if fields else "本台账没有定义字段"
    return [
        lined.problem((*base, j), f"未知的字段 '{name}'（可用：{known}）")
        for j, name in enumerate(names)
        if name not in fields
    ]


def spec_problem(spec: str, known: dict[str, RoleDef], reg: RegisterDef) -> str | None:
    """Why a role spec of a register is wrong: an unknown role, a role that never changes records
    (纪委监督, 居民), or a party the item does not have."""
    role, party = split_spec(spec)
    if role in PSEUDO_ROLES:
        return f"'{role}' 不是岗位，不能办理台账"
    found = known.get(role)
    if found is None:
        return f"未知的角色 '{role}'（可用：{'、'.join(sorted(known))}）"
    if found.reads_everything or found.flag_and_urge_only or found.acts_for_self_only:
        return f"角色 '{role}' 只能查看或只能为本人办理，不能建立或修改台账"
    if party is not None and party not in ITEM_PARTIES:
        return f"台账条目没有当事方 '{party}'（可用：{'、'.join(ITEM_PARTIES)}）"
    on = party or ("place" if "division" in found.held_on else "unit")
    if on == "place" and ("division" not in found.held_on or reg.placement.division == "none"):
        return f"'{role}' 不能在条目所在区划办理（角色不设在区划上，或台账条目不落在区划上）"
    if on == "unit" and ("unit" not in found.held_on or reg.placement.unit == "none"):
        return f"'{role}' 不能在条目所属单位办理（角色不设在单位上，或台账条目不属于单位）"
    return None


def check_references(
    mechanisms: dict[str, tuple[MechanismDef, LinedData]], registers: set[str]
) -> list[Problem]:
    """Each `reference` field of a case mechanism names a register that is loaded; `register` only on
    reference fields."""
    problems: list[Problem] = []
    for mech, lined in mechanisms.values():
        for i, f in enumerate(mech.fields):
            if f.type == "reference" and f.register_ is None:
                problems.append(
                    lined.problem(("fields", i, "register"), "reference 字段须写明所引用的台账（register）")
                )
            elif f.type != "reference" and f.register_ is not None:
                problems.append(
                    lined.problem(
                        ("fields", i, "register"), f"只有 reference 字段才能引用台账（本字段为 {f.type}）"
                    )
                )
            elif f.register_ is not None and f.register_ not in registers:
                have = "、".join(sorted(registers)) or "没有加载任何台账"
                problems.append(
                    lined.problem(("fields", i, "register"), f"未知的台账 '{f.register_}'（可用：{have}）")
                )
    return problems
