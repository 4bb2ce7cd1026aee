"""The leader dashboard (驾驶舱) and the division outlines its map draws."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from taizhang.clock.now import now as clock_now
from taizhang.errors import ActionError

from ..basemap import outlines
from ..pages import refused_page
from .data import dashboard_data
from .scope import parse_scope
from .stats import children_of


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Totals, trend, map, overdue and escalated cases, 考核 — for `?period=` and `?division=`."""
    request.nav_active = "dashboard"
    try:
        scope = parse_scope(request.user, request.GET, clock_now())
    except ActionError as exc:
        return refused_page(request, _("驾驶舱"), exc, [(reverse("workbench"), _("返回工作台"))])
    return render(request, "web/dashboard/dashboard.html", dashboard_data(scope))


@login_required
def division_outlines(request: HttpRequest) -> HttpResponse:
    """GeoJSON outlines of the dashboard's division and its children, in the basemap's coordinates."""
    try:
        scope = parse_scope(request.user, request.GET, clock_now())
    except ActionError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    nodes = ([scope.division] if scope.division is not None else []) + children_of(scope)
    response = JsonResponse(outlines(nodes, scope.division), content_type="application/geo+json")
    response["Cache-Control"] = "private, max-age=300"
    return response
