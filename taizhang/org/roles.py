"""The roles a person can hold on a node of the org tree."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("网格员")
    INTAKE = "intake", _("受理员")
    DISPATCHER = "dispatcher", _("派遣员")
    HANDLER = "handler", _("处置人")
    VERIFIER = "verifier", _("核查员")
    LEADER = "leader", _("领导")
    INSPECTOR = "inspector", _("纪委监督")
    ENTERPRISE_OFFICER = "enterprise_officer", _("企业安全员")
    RESIDENT = "resident", _("居民")


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
    """The label of a role or pseudo-role code, in the active language (Chinese by default)."""
    if code == REPORTER:
        return gettext("上报人")
    if code == SYSTEM:
        return gettext("系统")
    if code == CO_HANDLER:
        return gettext("协办人")
    try:
        return str(Role(code).label)
    except ValueError:
        return code
