"""Template context every page gets: the navigation the signed-in person's roles call for."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from taizhang.insight.reply_index import may_view_reply_quality
from taizhang.mechanisms.registry import get_registry
from taizhang.org.roles import Role
from taizhang.org.scopes import staff_roles

# Who sees the leader dashboard: people who answer for a whole area, not one case.
DASHBOARD_ROLES = frozenset({Role.LEADER, Role.DISPATCHER, Role.INSPECTOR, Role.INTAKE})


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str


def can_report(user) -> bool:
    """Whether some mechanism lets one of the person's staff roles file a case (residents use the portal)."""
    roles = staff_roles(user)
    return any(roles & set(m.definition.intake.roles) for m in get_registry().mechanisms.values())


def nav_items(user) -> list[NavItem]:
    """The main menu for this person, in the order they use it."""
    if not user.is_authenticated:
        return [NavItem("portal", _("群众服务"), reverse("portal:home"))]
    roles = staff_roles(user)
    items: list[NavItem] = []
    if roles or user.is_superuser:
        items.append(NavItem("workbench", _("工作台"), reverse("workbench")))
        items.append(NavItem("cases", _("案件"), reverse("cases:list")))
        if get_registry().registers:
            items.append(NavItem("registers", _("台账"), reverse("registers:index")))
    if can_report(user):
        items.append(NavItem("report", _("上报"), reverse("report:new")))
    if roles & DASHBOARD_ROLES or user.is_superuser:
        items.append(NavItem("dashboard", _("驾驶舱"), reverse("dashboard:home")))
        items.append(NavItem("hotspots", _("热点"), reverse("hotspots:list")))
        items.append(NavItem("monthly", _("月报"), reverse("monthly:page")))
    if may_view_reply_quality(user):
        items.append(NavItem("replies", _("答复质量"), reverse("replies:list")))
    if not roles and not user.is_superuser:
        items.append(NavItem("portal", _("我的诉求"), reverse("portal:home")))
    items.append(NavItem("mechanisms", _("机制"), reverse("mechanisms:list")))
    if user.is_staff:
        items.append(NavItem("admin", _("管理后台"), reverse("admin:index")))
    return items


def navigation(request: HttpRequest) -> dict:
    """Context processor: `nav` (menu items) and `nav_active` (the current section's key)."""
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {"nav": nav_items(user), "nav_active": getattr(request, "nav_active", "")}
