"""The hot spots a person may see, hottest first: for the dashboard, the monthly report and the API.

A person sees a hot spot only through the cases they may see (`Case.objects.for_user`): its counts,
heat and case list are those of its visible demands, and a group with fewer than
`dashboard.min_count` visible demands is not shown. For a district the person sees whole (a
division role on the district or above, a discipline inspector, a superuser) the stored figures are
exact and the groups come in `rank_key` order from an index; elsewhere the visible demands of the
groups active in the period are counted in one query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Sum

from taizhang.cases.models import Case
from taizhang.clock.now import now as clock_now
from taizhang.errors import forbidden
from taizhang.org.models import Division, User
from taizhang.org.roles import Role
from taizhang.org.scopes import grants_of, sees_everything

from .hotspots import heat_at, heat_mass
from .models import HotSpot, HotSpotMember
from .rules import hotspot_rules


@dataclass
class HotSpotView:
    """One hot spot as a person sees it."""

    id: int
    name: str
    place: str
    problem: str
    mechanism: str
    heat: float
    count: int
    reporters: int
    support: int
    first_at: datetime
    last_at: datetime
    case_ids: list[int] = field(default_factory=list)
    case_numbers: list[str] = field(default_factory=list)

    @property
    def span_days(self) -> float:
        return round((self.last_at - self.first_at).total_seconds() / 86400, 1)


def check_hotspot_viewer(user: User) -> None:
    """Hot spots are for staff: anyone with a post other than 居民 (and superusers)."""
    if user.is_superuser or any(g.role != Role.RESIDENT for g in grants_of(user)):
        return
    raise forbidden("role_not_allowed", "热点分析仅供工作人员查看")


def whole_regions(user: User, regions: set[str]) -> set[str]:
    """The regions (district codes) among `regions` whose every case the person sees."""
    if sees_everything(user):
        return set(regions)
    paths = dict(Division.objects.filter(code__in=regions).values_list("code", "path"))
    mine = [g.division.path for g in grants_of(user) if g.division is not None]
    return {code for code, path in paths.items() if any(path.startswith(p) for p in mine)}


def top_hotspots(
    user: User,
    *,
    limit: int | None = None,
    days: int | None = None,
    mechanism: str | None = None,
    now: datetime | None = None,
) -> list[HotSpotView]:
    """The hottest hot spots the person may see, with their visible cases (oldest first).

    `limit` and `days` default to `dashboard:` in hotspots.yaml; `days` keeps the groups whose last
    demand is at most that old. Five queries or fewer whatever the number of cases.
    """
    check_hotspot_viewer(user)
    defaults = hotspot_rules().dashboard
    limit = limit or defaults.limit
    now = now or clock_now()
    since = now - timedelta(days=days or defaults.days)
    active = HotSpot.objects.filter(last_at__gte=since)
    if mechanism:
        active = active.filter(scope__endswith=f":{mechanism}")
    scopes = set(active.values_list("scope", flat=True).distinct())
    whole = whole_regions(user, {s.split(":")[0] for s in scopes})
    whole_scopes = [s for s in scopes if s.split(":")[0] in whole]
    partial_scopes = [s for s in scopes if s not in whole_scopes]
    views: list[HotSpotView] = []
    for spot in active.filter(scope__in=whole_scopes).order_by("-rank_key")[: limit * 4]:
        rules = hotspot_rules(spot.scope.split(":")[0])
        if spot.count < rules.dashboard.min_count:
            continue
        views.append(view_of(spot, heat_at(rules.heat, spot.mass, spot.last_at, now)))
    visible = Case.objects.for_user(user)
    seen = Exists(visible.filter(pk=OuterRef("case_id")))
    if partial_scopes:
        counted = (
            HotSpotMember.objects.filter(hotspot__in=active.filter(scope__in=partial_scopes))
            .filter(seen)
            .values("hotspot_id", "hotspot__scope")
            .annotate(
                n=Count("pk"),
                people=Count("reporter_key", distinct=True),
                backing=Sum("support"),
                first=Min("created_at"),
                last=Max("created_at"),
            )
        )
        figures = {}
        for row in counted:
            rules = hotspot_rules(row["hotspot__scope"].split(":")[0])
            if row["n"] < rules.dashboard.min_count:
                continue
            mass = heat_mass(
                rules.heat, row["n"], row["people"], row["backing"] or 0, row["first"], row["last"]
            )
            figures[row["hotspot_id"]] = (heat_at(rules.heat, mass, row["last"], now), row)
        best = sorted(figures, key=lambda k: (-figures[k][0], k))[:limit]
        for spot in HotSpot.objects.filter(pk__in=best):
            heat, row = figures[spot.pk]
            view = view_of(spot, heat)
            view.count, view.reporters, view.support = row["n"], row["people"], row["backing"] or 0
            view.first_at, view.last_at = row["first"], row["last"]
            views.append(view)
    views.sort(key=lambda v: (-v.heat, v.id))
    views = views[:limit]
    by_id = {v.id: v for v in views}
    members = HotSpotMember.objects.filter(hotspot_id__in=list(by_id))
    if partial_scopes:  # only the visible demands of the groups in partly visible districts
        members = members.filter(Q(hotspot__scope__in=whole_scopes) | Q(seen))
    for hotspot_id, case_id, number in members.order_by("created_at", "case_id").values_list(
        "hotspot_id", "case_id", "case__number"
    ):
        by_id[hotspot_id].case_ids.append(case_id)
        by_id[hotspot_id].case_numbers.append(number)
    return views


def view_of(spot: HotSpot, heat: float) -> HotSpotView:
    return HotSpotView(
        id=spot.pk,
        name=spot.name,
        place=spot.place,
        problem=spot.problem,
        mechanism=spot.scope.split(":", 1)[1],
        heat=round(heat, 3),
        count=spot.count,
        reporters=spot.reporters,
        support=spot.support,
        first_at=spot.first_at,
        last_at=spot.last_at,
    )
