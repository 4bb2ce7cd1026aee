"""The roles a person can hold on a node of the org tree."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", "网格员"
    INTAKE = "intake", "受理员"
    DISPATCHER = "dispatcher", "派遣员"
    HANDLER = "handler", "处置人"
    VERIFIER = "verifier", "核查员"
    LEADER = "leader", "领导"
    INSPECTOR = "inspector", "纪委监督"
    ENTERPRISE_OFFICER = "enterprise_officer", "企业安全员"
    RESIDENT = "resident", "居民"


# Pseudo-roles a mechanism may name besides the org roles: the case's own reporter and the scheduler.
REPORTER = "reporter"
SYSTEM = "system"
# A handler of an assisting (协办) unit: sees the case and may give its part, but is not the lead unit.
CO_HANDLER = "co_handler"
MECHANISM_ROLES: frozenset[str] = frozenset({*Role.values, REPORTER, SYSTEM, CO_HANDLER})

# Roles held on a division (they see the division's subtree) and roles held on a unit.
DIVISION_ROLES = frozenset({Role.GRID_WORKER, Role.INTAKE, Role.DISPATCHER, Role.LEADER, Role.INSPECTOR})
UNIT_ROLES = frozenset({Role.HANDLER, Role.VERIFIER, Role.LEADER, Role.ENTERPRISE_OFFICER})


def role_label(code: str) -> str:
    """Chinese label of a role or pseudo-role code."""
    if code == REPORTER:
        return "上报人"
    if code == SYSTEM:
        return "系统"
    if code == CO_HANDLER:
        return "协办人"
    try:
        return Role(code).label
    except ValueError:
        return code
