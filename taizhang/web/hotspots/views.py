"""/hotspots/ (热点排行): the hottest groups of demands about one problem at one place that the person may
see, beyond the dashboard's five: filters in the URL (period, division, mechanism, how many), each group
linking to its cases. The rows come from `top_hotspots`, the query behind /api/v1/hotspots."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from taizhang.errors import ActionError, FieldError
from taizhang.insight.hotspot_queries import HotSpotView, check_hotspot_viewer, top_hotspots
from taizhang.insight.rules import hotspot_rules
from taizhang.mechanisms.registry import get_registry
from taizhang.org.models import Division

from ..caselist.options import visible_nodes
from ..pages import list_or_results, refused_page

PERIODS = {"7": _("近7天"), "30": _("近30天"), "90": _("近90天"), "365": _("近一年")}
SIZES = (20, 50, 100)


@dataclass
class HotSpotQuery:
    """The page's query string, read; bad values become field errors shown in place."""

    days: int = 90
    division: Division | None = None
    mechanism: str = ""
    limit: int = SIZES[0]
    errors: list[FieldError] = field(default_factory=list)

    def error_fields(self) -> set[str]:
        return {e.field for e in self.errors}


def parse(user, params: QueryDict) -> HotSpotQuery:
    """Read `days` (one of PERIODS; default: hotspots.yaml's dashboard days), `division` (one the person
    sees), `mechanism` and `limit` (one of SIZES)."""
    query = HotSpotQuery(days=hotspot_rules().dashboard.days)
    errors = query.errors
    days = params.get("days", "").strip()
    if days in PERIODS:
        query.days = int(days)
    elif days:
        errors.append(FieldError("days", "invalid_choice", f"无效的时间范围：{days}"))
    code = params.get("division", "").strip()
    if code:
        query.division = visible_nodes(user)[0].filter(code=code).first()
        if query.division is None:
            errors.append(FieldError("division", "unknown_division", f"没有您可查看的区划：{code}"))
    query.mechanism = params.get("mechanism", "").strip()
    if query.mechanism and query.mechanism not in hotspot_rules().mechanisms:
        errors.append(
            FieldError("mechanism", "unknown_mechanism", f"没有编码为 {query.mechanism} 的热点机制")
        )
    limit = params.get("limit", "").strip()
    if limit in {str(n) for n in SIZES}:
        query.limit = int(limit)
    elif limit:
        errors.append(
            FieldError("limit", "invalid_choice", f"条数须为 {'、'.join(map(str, SIZES))} 之一：{limit}")
        )
    return query


def case_link(spot: HotSpotView, division: Division | None) -> str:
    """The case list holding the demands counted for the group (those of the division, when one is chosen)."""
    params = {"hotspot": spot.id, **({"division": division.code} if division else {})}
    return f"{reverse('cases:list')}?{urlencode(params)}"


@login_required
def hotspot_list(request: HttpRequest) -> HttpResponse:
    """The ranking; 403 for anybody who may not see hot spots (residents)."""
    request.nav_active = "hotspots"
    user = request.user
    try:
        check_hotspot_viewer(user)
    except ActionError as exc:
        return refused_page(request, str(_("热点排行")), exc)
    query = parse(user, request.GET)
    rules, mechanisms = hotspot_rules(), get_registry().mechanisms
    spots = []
    if not query.errors:
        found = top_hotspots(
            user,
            limit=query.limit,
            days=query.days,
            mechanism=query.mechanism or None,
            division=query.division,
        )
        spots = [
            {
                "spot": s,
                "rank": i,
                "url": case_link(s, query.division),
                "mechanism": mechanisms[s.mechanism].name if s.mechanism in mechanisms else s.mechanism,
            }
            for i, s in enumerate(found, 1)
        ]
    context = {
        "query": query,
        "bad": query.error_fields(),
        "spots": spots,
        "periods": PERIODS,
        "sizes": SIZES,
        "divisions": list(visible_nodes(user)[0].values_list("code", "name")),
        "mechanisms": [(code, mechanisms[code].name) for code in rules.mechanisms if code in mechanisms],
        "heat": rules.heat,
    }
    return list_or_results(request, "hotspots", context, status=400 if query.errors else 200)
