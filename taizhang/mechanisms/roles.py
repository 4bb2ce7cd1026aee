"""Roles as data: the platform's roles file (mechanisms/org/roles.yaml) and the roles mechanisms add.

A role spec in a mechanism is a role code, or a role relative to a party of the case
(`verifier@supervisor`); the parties are the engine's words (taizhang.org.parties).
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from taizhang.org.parties import ACTING_PARTIES
from taizhang.org.roles import REPORTER, SYSTEM, Role

from .errors import MechanismError, Problem
from .schema import MechanismDef, RoleDef, RolesFile
from .validate_shape import parse_model
from .yamlfile import LinedData, read_lined_yaml

# Pseudo-roles a mechanism may name besides the roles people hold.
PSEUDO_ROLES = frozenset({REPORTER, SYSTEM})


def split_spec(spec: str) -> tuple[str, str | None]:
    """`verifier@supervisor` -> ("verifier", "supervisor"); `handler` -> ("handler", None)."""
    role, _, party = spec.partition("@")
    return role, party or None


# The roles file shipped with the platform.
SHIPPED_ROLES = Path(__file__).resolve().parents[2] / "mechanisms" / "org" / "roles.yaml"


def roles_file_path() -> Path:
    """TAIZHANG_ROLES_FILE, else the mechanism directory's org/roles.yaml, else the shipped file."""
    configured = getattr(settings, "TAIZHANG_ROLES_FILE", "")
    if configured:
        return Path(configured)
    own = Path(settings.TAIZHANG_MECHANISM_DIR) / "org" / "roles.yaml"
    return own if own.is_file() else SHIPPED_ROLES


def validate_roles_file(lined: LinedData) -> list[RoleDef]:
    """The platform's roles, or MechanismError naming the file, line and field of every problem."""
    parsed: RolesFile = parse_model(lined, RolesFile)
    problems = check_role_defs(parsed.roles, lined, ("roles",), set())
    declared = {r.code for r in parsed.roles}
    for code in Role.values:
        if code not in declared:
            problems.append(
                lined.problem(
                    ("roles",), f"缺少平台内置角色 '{code}'（{Role(code).label}），引擎按它办理上报和门户账号"
                )
            )
    if problems:
        raise MechanismError(problems)
    return parsed.roles


def check_role_defs(roles: list[RoleDef], lined: LinedData, base: tuple, taken: set[str]) -> list[Problem]:
    """Unique codes (also against `taken`, the platform's), and flags that make sense together."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, role in enumerate(roles):
        path = (*base, i)
        if role.code in seen or role.code in taken or role.code in PSEUDO_ROLES:
            where = "平台角色文件" if role.code in taken else "本文件"
            problems.append(lined.problem((*path, "code"), f"角色编码 '{role.code}' 与{where}中的角色重复"))
        seen.add(role.code)
        if len(set(role.held_on)) != len(role.held_on):
            problems.append(lined.problem((*path, "held_on"), "held_on 中有重复的节点类型"))
        if not role.held_on and not role.acts_for_self_only and not role.reads_everything:
            problems.append(
                lined.problem(
                    (*path, "held_on"), "不设在任何节点上的角色须为 acts_for_self_only（只能为本人办理）"
                )
            )
        if role.acts_for_self_only and (role.held_on or role.reads_everything):
            problems.append(
                lined.problem(
                    (*path, "acts_for_self_only"), "只能为本人办理的角色不能设在节点上，也不能查看全部案件"
                )
            )
        if role.reads_everything and not role.flag_and_urge_only:
            problems.append(
                lined.problem(
                    (*path, "reads_everything"),
                    "可查看全部案件的角色须为 flag_and_urge_only（只能标记和催办）",
                )
            )
    return problems


@lru_cache(maxsize=8)
def _platform_roles(path: str, mtime: float) -> tuple[RoleDef, ...]:
    return tuple(validate_roles_file(read_lined_yaml(Path(path), "org/roles.yaml")))


def platform_roles() -> tuple[RoleDef, ...]:
    """The platform's roles, read once per file version; MechanismError when the file is wrong."""
    path = roles_file_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        raise MechanismError([Problem("org/roles.yaml", 1, "", f"角色文件不存在：{path}")]) from None
    return _platform_roles(str(path), mtime)


def check_spec(
    spec: str, mech: MechanismDef, known: dict[str, RoleDef], lined: LinedData, path: tuple
) -> Problem | None:
    """Why a role spec of a mechanism is wrong, or None."""
    role, party = split_spec(spec)
    if role not in known and role not in PSEUDO_ROLES:
        names = sorted({*known, *PSEUDO_ROLES})
        guess = difflib.get_close_matches(role, names, n=1)
        hint = f"，是否应为 '{guess[0]}'？" if guess else ""
        return lined.problem(path, f"未知的角色 '{role}'{hint}（可用：{'、'.join(names)}）")
    if party is None:
        return None
    if role in PSEUDO_ROLES:
        return lined.problem(path, f"'{role}' 不是岗位，不能指定相对哪一方（@{party}）")
    if party not in ACTING_PARTIES:
        return lined.problem(path, f"未知的案件当事方 '{party}'（可用：{'、'.join(ACTING_PARTIES)}）")
    held = known[role].held_on
    if known[role].reads_everything or known[role].acts_for_self_only:
        return lined.problem(path, f"角色 '{role}' 不设在节点上办理，不能指定 @{party}")
    if party in ("lead", "co", "enforcement") and "unit" not in held:
        return lined.problem(path, f"'{role}' 只设在区划上，不能是单位方（@{party}）的岗位")
    if party == "place" and "division" not in held:
        return lined.problem(path, f"'{role}' 只设在单位上，不能是所在区划（@place）的岗位")
    return None
