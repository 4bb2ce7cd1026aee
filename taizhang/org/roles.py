"""The roles a person can hold: their codes as the engine names them, their labels and flags.

What each role is held on and may do is data (mechanisms/org/roles.yaml and a mechanism's own `roles:`,
read by taizhang.mechanisms.roles); these constants are the codes the engine itself refers to.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The platform's built-in roles (the roles file must declare each of them)."""

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
# How history rows before roles relative to parties named a 协办 unit's handler (now `handler@co`).
CO_HANDLER = "co_handler"


def role_def(code: str):
    """The definition of a role (platform's or a mechanism's), or None."""
    from taizhang.mechanisms.registry import get_registry

    return get_registry().roles.get(code)


def role_label(code: str) -> str:
    """The label of a role spec (`verifier@supervisor` -> 核查员（监督方）) in the active language."""
    from .parties import PARTY_NAMES

    role, _sep, party = code.partition("@")
    if role == REPORTER:
        label = gettext("上报人")
    elif role == SYSTEM:
        label = gettext("系统")
    elif role == CO_HANDLER:
        label = gettext("协办人")
    elif role in Role.values:
        label = str(Role(role).label)
    else:
        found = role_def(role)
        label = found.name if found else role
    return f"{label}（{PARTY_NAMES[party]}）" if party in PARTY_NAMES else label


def role_choices() -> list[tuple[str, str]]:
    """Every role a membership may hold, for forms and the admin."""
    from taizhang.mechanisms.registry import get_registry

    return [(code, role_label(code)) for code in get_registry().roles]
