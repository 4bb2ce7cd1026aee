"""/hotspots/ (热点排行): the hottest groups of demands about one problem at one place that the person may
see, beyond the dashboard's five: filters in the URL (period, division, mechanism, how many), each group
linking to its cases. The rows come from `top_hotspots`, the query behind /api/v1/hotspots."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from taizhang.errors import ActionError, FieldError
from taizhang.insight.hotspot_queries import HotSpotView, check_hotspot_viewer, hotspot_ranking
from taizhang.insight.rules import hotspot_rules
from taizhang.mechanisms.registry import get_registry
from taizhang.org.models import Division

from ..caselist.options import visible_nodes
from ..pages import guarded_page, list_or_results

PERIODS = {"7": _("近7天"), "30": _("近30天"), "90": _("近90天"), "365": _("近一年")}
SIZES = (20, 50, 100)


@dataclass
class HotSpotQuery:
    """The page's query string, read; bad values become field errors shown in place."""

    days: int = 90
    division: str = ""
    mechanism: str = ""
    limit: int = SIZES[0]
    errors: list[FieldError] = field(default_factory=list)

    def error_fields(self) -> set[str]:
        return {e.field for e in self.errors}


def parse(params: QueryDict) -> HotSpotQuery:
    """Read `days` (default: hotspots.yaml's dashboard days), `division`, `mechanism` and `limit` as
    they are; whether they make sense is `hotspot_ranking`'s to say."""
    query = HotSpotQuery(
        days=hotspot_rules().dashboard.days,
        division=params.get("division", "").strip(),
        mechanism=params.get("mechanism", "").strip(),
    )
    for name in ("days", "limit"):
        raw = params.get(name, "").strip()
        if not raw:
            continue
        try:
            setattr(query, name, int(raw))
        except ValueError:
            query.errors.append(FieldError(name, "invalid_number", f"须为整数：{raw}"))
    return query


def choices(query: HotSpotQuery) -> dict:
    """The selects' options, with a value typed into the URL (days=14) among them, so that it shows as
    chosen rather than the first option."""
    periods = dict(PERIODS)
    if query.days > 0:
        periods.setdefault(str(query.days), _("近%(n)s天") % {"n": query.days})
    sizes = sorted({*SIZES, query.limit}) if query.limit > 0 else list(SIZES)
    return {"periods": periods, "sizes": sizes}


def case_link(spot: HotSpotView, division: Division | None) -> str:
    """The case list holding the demands counted for the group (those of the division, when one is chosen)."""
    params = {"hotspot": spot.id, **({"division": division.code} if division else {})}
    return f"{reverse('cases:list')}?{urlencode(params)}"


@guarded_page("hotspots", _("热点排行"), check_hotspot_viewer)
def hotspot_list(request: HttpRequest) -> HttpResponse:
    """The ranking; 403 for anybody who may not see hot spots (residents)."""
    user = request.user
    query = parse(request.GET)
    rules, mechanisms = hotspot_rules(), get_registry().mechanisms
    spots = []
    if not query.errors:
        try:
            found, division = hotspot_ranking(
                user, limit=query.limit, days=query.days, mechanism=query.mechanism, division=query.division
            )
        except ActionError as exc:
            query.errors.extend(exc.errors or [FieldError("", exc.code, exc.message)])
        else:
            spots = [
                {
                    "spot": s,
                    "rank": i,
                    "url": case_link(s, division),
                    "mechanism": mechanisms[s.mechanism].name if s.mechanism in mechanisms else s.mechanism,
                }
                for i, s in enumerate(found, 1)
            ]
    context = {
        "query": query,
        "bad": query.error_fields(),
        "spots": spots,
        **choices(query),
        "divisions": list(visible_nodes(user)[0].values_list("code", "name")),
        "mechanisms": [(code, mechanisms[code].name) for code in rules.mechanisms if code in mechanisms],
        "heat": rules.heat,
    }
    return list_or_results(request, "hotspots", context, status=400 if query.errors else 200)
