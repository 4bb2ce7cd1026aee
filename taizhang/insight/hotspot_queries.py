"""The hot spots a person may see, hottest first: for the dashboard, the monthly report and the API.

A person sees a hot spot only through the cases they may see (`Case.objects.for_user`): its counts,
heat and case list are those of its visible demands, and a group with fewer than
`dashboard.min_count` visible demands is not shown. For a district the person sees whole (a
division role on the district or above, a discipline inspector, a superuser) the stored figures are
exact and the groups come in `rank_key` order from an index; elsewhere the visible demands of the
hottest groups are counted page by page until no later group can rank (`visible_top`).

A `window` (the monthly report's month) or a `division` counts only the demands created in the window
or filed in the division's subtree, always by `visible_top`: a group's figures, heat (at the window's
end) and case list are those of these demands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Sum

from taizhang.cases.models import Case
from taizhang.clock.now import now as clock_now
from taizhang.errors import FieldError, forbidden, invalid
from taizhang.org.models import Division, User
from taizhang.org.scopes import grants_of, sees_everything, staff_roles, visible_nodes

from .hotspots import heat_at, heat_mass
from .models import HotSpot, HotSpotMember
from .rules import hotspot_rules

PAGE = 200  # groups read per step of `visible_top`
MAX_LIMIT = 100  # hot spots in one answer (the API and the /hotspots/ page)
MAX_DAYS = 366


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
    partial: bool = False  # counted from the person's visible demands, not the stored figures

    @property
    def span_days(self) -> float:
        return round((self.last_at - self.first_at).total_seconds() / 86400, 1)


def check_hotspot_viewer(user: User) -> None:
    """Hot spots are for staff: anyone with a post other than 居民 (and superusers)."""
    if user.is_superuser or staff_roles(user):
        return
    raise forbidden("role_not_allowed", "热点分析仅供工作人员查看")


def hotspot_ranking(
    user: User,
    *,
    limit: int | None = None,
    days: int | None = None,
    mechanism: str = "",
    division: str = "",
) -> tuple[list[HotSpotView], Division | None]:
    """`top_hotspots` for a request: the filters checked first (422 naming every bad one), `division`
    a code the person may see. Returns the hot spots and the division they were counted in."""
    check_hotspot_viewer(user)
    errors = []
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        errors.append(FieldError("limit", "out_of_range", f"条数须在 1 到 {MAX_LIMIT} 之间：{limit}"))
    if days is not None and not 1 <= days <= MAX_DAYS:
        errors.append(FieldError("days", "out_of_range", f"天数须在 1 到 {MAX_DAYS} 之间：{days}"))
    grouped = hotspot_rules().mechanisms
    if mechanism and mechanism not in grouped:
        errors.append(
            FieldError(
                "mechanism",
                "unknown_mechanism",
                f"机制 {mechanism} 不归并热点（归并热点的机制：{'、'.join(grouped)}）",
            )
        )
    node = None
    if division:
        node = visible_nodes(user)[0].filter(code=division).first()
        if node is None:
            errors.append(FieldError("division", "unknown_division", f"没有您可查看的区划：{division}"))
    if errors:
        raise invalid(errors)
    found = top_hotspots(user, limit=limit, days=days, mechanism=mechanism or None, division=node)
    return found, node


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
    window: tuple[datetime, datetime] | None = None,
    division: Division | None = None,
) -> list[HotSpotView]:
    """The hottest hot spots the person may see, with their visible cases (oldest first).

    `limit` and `days` default to `dashboard:` in hotspots.yaml; `days` keeps the groups whose last
    demand is at most that old. Per scope (district and mechanism): where the person sees the whole
    district, the stored groups in `rank_key` order (one indexed query); elsewhere `visible_top`.
    `window` ([start, end)) instead keeps the groups with demands in it, counted and heated (at
    `end`, or `now` when earlier) from those demands only; `division` counts the demands filed in its
    subtree only (module docstring).
    """
    check_hotspot_viewer(user)
    defaults = hotspot_rules().dashboard
    limit = limit or defaults.limit
    now = now or clock_now()
    counted = Q()  # the demands that count, beyond the person's visible ones
    if window is not None:
        start, end = window
        now = min(now, end)  # heat as at the window's end
        active = HotSpot.objects.filter(last_at__gte=start, first_at__lt=end)
        counted &= Q(created_at__gte=start, created_at__lt=end)
    else:
        active = HotSpot.objects.filter(last_at__gte=now - timedelta(days=days or defaults.days))
    if division is not None:
        counted &= Q(case__division__path__startswith=division.path)
    narrowed = window is not None or division is not None
    if mechanism:
        active = active.filter(scope__endswith=f":{mechanism}")
    scopes = sorted(set(active.order_by().values_list("scope", flat=True).distinct()))
    whole = whole_regions(user, {s.split(":")[0] for s in scopes})
    seen = Exists(Case.objects.for_user(user).filter(pk=OuterRef("case_id")))
    views: list[HotSpotView] = []
    unseen_ok: set[int] = set()  # groups of districts the person sees whole: every demand is visible
    for scope in scopes:
        rules = hotspot_rules(scope.split(":")[0])
        in_scope = active.filter(scope=scope, count__gte=rules.dashboard.min_count).order_by(
            "-rank_key", "pk"
        )
        if scope.split(":")[0] in whole and not narrowed:
            views += [view_of(s, heat_at(rules.heat, s.mass, s.last_at, now)) for s in in_scope[:limit]]
        elif scope.split(":")[0] in whole:
            found = visible_top(in_scope, counted, rules, limit, now)
            unseen_ok |= {v.id for v in found}
            views += found
        else:
            views += visible_top(in_scope, Q(seen) & counted, rules, limit, now)
    views.sort(key=lambda v: (-v.heat, v.id))
    views = views[:limit]
    by_id = {v.id: v for v in views}
    members = HotSpotMember.objects.filter(hotspot_id__in=list(by_id)).filter(counted)
    if any(v.partial and v.id not in unseen_ok for v in views):
        # only the visible demands of groups in partly visible districts
        members = members.filter(
            Q(hotspot_id__in=[v.id for v in views if not v.partial or v.id in unseen_ok]) | Q(seen)
        )
    for hotspot_id, case_id, number in members.order_by("created_at", "case_id").values_list(
        "hotspot_id", "case_id", "case__number"
    ):
        by_id[hotspot_id].case_ids.append(case_id)
        by_id[hotspot_id].case_numbers.append(number)
    return views


def visible_top(in_scope, counted: Q, rules, limit: int, now: datetime) -> list[HotSpotView]:
    """The `limit` hottest groups of one scope by the demands `counted` selects, exactly, by a
    threshold scan.

    Those demands (the visible ones, those of a window or a division) are a subset of the group's,
    so their heat is at most the group's stored heat (before `heat_at` stops the decay at the last
    demand: a window may end before it), and stored heat falls along `rank_key`. Pages of `PAGE`
    groups are read in that order and their counted demands counted (one query a page); the scan
    stops when the stored heat of the next page's hottest group is below the `limit`-th heat found,
    or after `dashboard.scan_limit` groups (groups further down are not considered).
    """
    found: list[HotSpotView] = []
    for start in range(0, rules.dashboard.scan_limit, PAGE):
        spots = list(in_scope[start : start + PAGE])
        if not spots:
            break
        age = (now - spots[0].last_at).total_seconds() / 86400  # negative for a later last demand
        bound = spots[0].mass * 0.5 ** (age / rules.heat.half_life_days)
        if len(found) >= limit and bound < found[limit - 1].heat:
            break
        by_id = {s.pk: s for s in spots}
        counted_rows = (
            HotSpotMember.objects.filter(hotspot_id__in=list(by_id))
            .filter(counted)
            .values("hotspot_id")
            .annotate(
                n=Count("pk"),
                people=Count("reporter_key", distinct=True),
                backing=Sum("support"),
                first=Min("created_at"),
                last=Max("created_at"),
            )
        )
        for row in counted_rows:
            if row["n"] < rules.dashboard.min_count:
                continue
            backing = row["backing"] or 0
            mass = heat_mass(rules.heat, row["n"], row["people"], backing, row["first"], row["last"])
            view = view_of(by_id[row["hotspot_id"]], heat_at(rules.heat, mass, row["last"], now))
            view.count, view.reporters, view.support = row["n"], row["people"], backing
            view.first_at, view.last_at, view.partial = row["first"], row["last"], True
            found.append(view)
        found.sort(key=lambda v: (-v.heat, v.id))
        del found[limit:]
    return found


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
