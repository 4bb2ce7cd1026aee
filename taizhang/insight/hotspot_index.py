"""Hot spots in the database: a demand joins or starts a group the moment it is created, supporters
("me too") warm its group, and `taizhang hotspots rebuild` regroups everything.

**One demand** (`add_case`, in the creation's transaction, after the similarity index): its words and
places are read from its text; candidates are the cases of its scope created in the `window_days`
before it that share its query terms (one SQL sum over the `CaseTerm` postings, the `candidates` best),
their groups (`HotSpotMember`) and the lone cases among them; each is scored (`hotspots.score`)
and the best at or above `join_threshold` wins. Joining a group locks its row, counts the demand in
and renames and re-ranks the group; joining a lone case makes a new group of the two. About ten
queries whatever the number of cases.

**Rebuild** (`rebuild`) groups every indexed case of a scope in order of creation in memory
(`hotspot_batch.Grouper`, the same scoring) and replaces the scope's groups in one transaction. The
candidates differ slightly from one-by-one adding (groups are found through the groups' own words, not
through the cases'), so a rebuild may group a few borderline demands differently. Demands created
while a rebuild runs are grouped afterwards by running it again; run it when the platform is quiet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F
from django.utils.crypto import salted_hmac

from taizhang.bulk import PlannerStatistics
from taizhang.cases.models import Case
from taizhang.clock.now import now as clock_now
from taizhang.org.models import Division

from .hotspot_batch import Grouper
from .hotspot_names import name_of
from .hotspots import Demand, Group, best_group, demand_of, heat_mass, query_terms, rank_key
from .models import CaseSupporter, CaseTerm, CaseTokens, HotSpot, HotSpotMember, TermCount
from .rules import HotspotRules, hotspot_rules
from .similar import PLACE_PREFIX, Weights, case_words, scope_of

FLUSH = 1000  # groups written per batch by a rebuild
# What grouping reads of a lone candidate case (its description is in its indexed words already).
LONE_FIELDS = (
    "id",
    "title",
    "address",
    "channel",
    "reporter_id",
    "data",
    "division_id",
    "created_at",
    "tokens__terms",
    "tokens__places",
)


def reporter_key(rules: HotspotRules, case_id: int, channel: str, reporter_id: int | None, data: dict | None):
    """Who reported a demand (see `reporters:` in hotspots.yaml). A phone is kept only as a keyed hash
    (HMAC with the site's secret key: a list of phone numbers cannot be tried against it elsewhere;
    after changing the key, `taizhang hotspots rebuild`)."""
    phone = "".join(ch for ch in str((data or {}).get(rules.reporters.phone_field) or "") if ch.isdigit())
    if phone:
        return "p:" + salted_hmac("taizhang.insight.reporter", phone, algorithm="sha256").hexdigest()[:20]
    if reporter_id is not None and channel in rules.reporters.self_channels:
        return f"u:{reporter_id}"
    return f"c:{case_id}"


def case_demand(case: Case, rules: HotspotRules, words=None, places=None, support: int = 0) -> Demand:
    """The demand grouping reads of a case (its words from `words`/`places` when given, else its text)."""
    if words is None:
        words, places = case_words(case)
    key = reporter_key(rules, case.pk, case.channel, case.reporter_id, case.data)
    return demand_of(
        case.pk,
        case.created_at,
        case.title,
        words,
        places,
        key,
        address=case.address or "",
        division_id=case.division_id,
        support=support,
    )


def load_df(weights: Weights, scope: str, terms: Iterable[str]) -> None:
    """Add the document frequencies of `terms` not loaded yet: `Weights.add` in plain SQL, because
    the ORM's per-parameter preparation costs more than the query for the thousand-odd words of
    twenty candidate groups."""
    missing = [t for t in terms if t not in weights.df]
    table = connection.ops.quote_name(TermCount._meta.db_table)
    for start in range(0, len(missing), 900):
        chunk = missing[start : start + 900]
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT term, df FROM {table} WHERE scope = %s AND term IN ({', '.join(['%s'] * len(chunk))})",
                [scope, *chunk],
            )
            weights.df.update(cur.fetchall())


def candidate_cases(
    scope: str, chosen: list[str], weights: Weights, lo, hi, exclude: int, limit: int
) -> list[int]:
    """The cases of the scope created in [lo, hi] with the most idf weight of `chosen` terms, best first.

    One range scan per term of the (scope, term, created_at) index, summed per case in SQL; plain SQL
    because building the ORM's CASE expression for two dozen terms costs more than running it.
    """
    ops = connection.ops
    table = ops.quote_name(CaseTerm._meta.db_table)
    cases = " ".join(["WHEN %s THEN %s"] * len(chosen))
    sql = (
        f"SELECT case_id, SUM(CASE term {cases} ELSE 0 END) AS r FROM {table} "
        f"WHERE scope = %s AND term IN ({', '.join(['%s'] * len(chosen))}) "
        "AND created_at >= %s AND created_at <= %s AND case_id <> %s "
        "GROUP BY case_id ORDER BY r DESC, case_id DESC LIMIT %s"
    )
    params = [x for t in chosen for x in (t, weights.idf(t))]
    params += [
        scope,
        *chosen,
        ops.adapt_datetimefield_value(lo),
        ops.adapt_datetimefield_value(hi),
        exclude,
        limit,
    ]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [row[0] for row in cur.fetchall()]


def group_of(spot: HotSpot) -> Group:
    """The grouping state of a stored hot spot."""
    return Group.from_state(
        spot.state,
        id=spot.pk,
        n=spot.count,
        first_at=spot.first_at,
        last_at=spot.last_at,
        reporters=spot.reporters,
        support=spot.support,
    )


def fill_spot(spot: HotSpot, group: Group, weights: Weights, rules: HotspotRules, division_name) -> HotSpot:
    """Copy a group's counts, name and rank onto its row (not saved). `division_name(id)` names a division."""
    name, place, problem = name_of(group, weights, rules.naming, lambda: division_name(group.division_id))
    mass = heat_mass(rules.heat, group.n, group.reporters, group.support, group.first_at, group.last_at)
    spot.name, spot.place, spot.problem = name, place, problem
    spot.division_id = group.division_id
    spot.count, spot.reporters, spot.support = group.n, group.reporters, group.support
    spot.first_at, spot.last_at = group.first_at, group.last_at
    spot.mass, spot.rank_key = mass, rank_key(rules.heat, mass, group.last_at)
    spot.state = group.trimmed(rules.grouping.group_terms).state()
    spot.updated_at = clock_now()
    return spot


def division_name(division_id: int | None) -> str:
    if division_id is None:
        return ""
    return Division.objects.filter(pk=division_id).values_list("name", flat=True).first() or ""


# ------------------------------------------------------------------------------------- one by one


def add_case(case: Case) -> HotSpot | None:
    """Put a new demand in its hot spot: join the best group, make a group with a lone case, or stay
    alone (None). Idempotent: a case already in a group is left where it is."""
    rules = hotspot_rules(case.region)
    if case.mechanism not in rules.mechanisms or HotSpotMember.objects.filter(pk=case.pk).exists():
        return None
    g = rules.grouping
    demand = case_demand(case, rules)
    scope = scope_of(case)
    weights = Weights(scope, [*demand.words, *(PLACE_PREFIX + p for p in demand.places)])
    chosen = query_terms(demand, weights, g)
    if not chosen:
        return None
    window = timedelta(days=g.window_days)
    lo, hi = case.created_at - window, case.created_at
    top = candidate_cases(scope, chosen, weights, lo, hi, case.pk, g.candidates)
    if not top:
        return None
    member_of = dict(HotSpotMember.objects.filter(case_id__in=top).values_list("case_id", "hotspot_id"))
    spots = HotSpot.objects.filter(pk__in=set(member_of.values()), last_at__gte=lo, first_at__lte=hi)
    candidates = [group_of(s) for s in spots]
    lone_cases = {}
    lone = Case.objects.filter(pk__in=[c for c in top if c not in member_of]).select_related("tokens")
    for row in lone.only(*LONE_FIELDS):
        group = Group.of(case_demand(row, rules, row.tokens.terms, row.tokens.places))
        lone_cases[id(group)] = row
        candidates.append(group)
    load_df(
        weights,
        scope,
        {t for c in candidates for t in c.terms} | {PLACE_PREFIX + p for c in candidates for p in c.places},
    )
    best, score = best_group(demand, candidates, weights, g)
    if best is None:
        return None
    try:
        with transaction.atomic():
            if best.id is not None:
                return join_spot(best.id, case, demand, score, weights, rules)
            return start_spot(lone_cases[id(best)], case, demand, score, weights, rules)
    except IntegrityError:  # the lone case was grouped at the same moment by another demand
        return None


def join_spot(spot_id: int, case: Case, demand: Demand, score: float, weights: Weights, rules: HotspotRules):
    spot = HotSpot.objects.select_for_update().get(pk=spot_id)
    group = group_of(spot)
    new_reporter = not HotSpotMember.objects.filter(hotspot=spot, reporter_key=demand.reporter).exists()
    group.add(demand, new_reporter, rules.grouping.group_terms)
    HotSpotMember.objects.create(
        case=case,
        hotspot=spot,
        created_at=case.created_at,
        reporter_key=demand.reporter,
        score=round(score, 4),
    )
    fill_spot(spot, group, weights, rules, division_name).save()
    return spot


def start_spot(lone: Case, case: Case, demand: Demand, score: float, weights: Weights, rules: HotspotRules):
    first = case_demand(lone, rules, lone.tokens.terms, lone.tokens.places)
    first.support = CaseSupporter.objects.filter(case=lone).count()
    group = Group()
    group.add(first, True)
    group.add(demand, demand.reporter != first.reporter)
    spot = fill_spot(HotSpot(scope=scope_of(case)), group, weights, rules, division_name)
    spot.save()
    HotSpotMember.objects.bulk_create(
        [
            HotSpotMember(
                case=lone,
                hotspot=spot,
                created_at=lone.created_at,
                reporter_key=first.reporter,
                support=first.support,
            ),
            HotSpotMember(
                case=case,
                hotspot=spot,
                created_at=case.created_at,
                reporter_key=demand.reporter,
                score=round(score, 4),
            ),
        ]
    )
    return spot


def add_supporter(case_id: int) -> None:
    """A resident said "me too" on a case: its group (if any) counts one more supporter."""
    hotspot_id = HotSpotMember.objects.filter(pk=case_id).values_list("hotspot_id", flat=True).first()
    if hotspot_id is None:
        return
    HotSpotMember.objects.filter(pk=case_id).update(support=F("support") + 1)
    spot = HotSpot.objects.select_for_update().get(pk=hotspot_id)
    rules = hotspot_rules(spot.scope.split(":")[0])
    spot.support += 1
    spot.mass = heat_mass(rules.heat, spot.count, spot.reporters, spot.support, spot.first_at, spot.last_at)
    spot.rank_key = rank_key(rules.heat, spot.mass, spot.last_at)
    spot.updated_at = clock_now()
    spot.save(update_fields=["support", "mass", "rank_key", "updated_at"])


# ----------------------------------------------------------------------------------------- rebuild


def scopes_to_group(
    regions: Iterable[str] | None = None, mechanisms: Iterable[str] | None = None
) -> list[tuple[str, str]]:
    """(region, mechanism) pairs with cases of a mechanism that is grouped there (of `regions` and
    `mechanisms` only, when given)."""
    qs = Case.objects.order_by().values_list("region", "mechanism").distinct()  # no "-id" in the DISTINCT
    if regions is not None:
        qs = qs.filter(region__in=list(regions))
    if mechanisms is not None:
        qs = qs.filter(mechanism__in=list(mechanisms))
    return sorted({(r, m) for r, m in qs if m in hotspot_rules(r).mechanisms})


def scope_weights(scope: str) -> Weights:
    """Every document frequency of a scope (a rebuild needs most of them)."""
    weights = Weights.__new__(Weights)
    weights.df = dict(TermCount.objects.filter(scope=scope).values_list("term", "df"))
    weights.n = weights.df.pop("", 0)
    return weights


def rebuild(
    regions: Iterable[str] | None = None,
    *,
    mechanisms: Iterable[str] | None = None,
    batch: int = 5000,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, int]]:
    """Regroup every indexed case of the scopes (all, or those of `regions` and `mechanisms`); returns
    per scope the demands read and the groups written."""
    names = dict(Division.objects.values_list("id", "name"))
    out = {}
    for region, mechanism in scopes_to_group(regions, mechanisms):
        scope = f"{region}:{mechanism}"
        with transaction.atomic():
            out[scope] = rebuild_scope(region, mechanism, names, batch)
        if progress:
            progress(f"{scope}: {out[scope]['demands']} 条诉求，{out[scope]['groups']} 个热点")
    if out:
        PlannerStatistics(HotSpot, HotSpotMember).refresh()  # the dashboard's queries plan on them
    return out


def rebuild_scope(region: str, mechanism: str, names: dict[int, str], batch: int) -> dict[str, int]:
    rules = hotspot_rules(region)
    scope = f"{region}:{mechanism}"
    weights = scope_weights(scope)
    support = dict(
        CaseSupporter.objects.filter(case__region=region, case__mechanism=mechanism)
        .values("case_id")
        .annotate(n=Count("id"))
        .values_list("case_id", "n")
    )
    HotSpotMember.objects.filter(hotspot__scope=scope).delete()
    HotSpot.objects.filter(scope=scope).delete()
    pending: list[Group] = []
    written = [0]

    def flush() -> None:
        spots = [fill_spot(HotSpot(scope=scope), g, weights, rules, names.get) for g in pending]
        HotSpot.objects.bulk_create(spots, batch_size=batch)
        members = []
        for spot, group in zip(spots, pending, strict=True):
            for d in group.members:
                members.append(
                    HotSpotMember(
                        case_id=d.id,
                        hotspot=spot,
                        created_at=d.created_at,
                        reporter_key=d.reporter,
                        support=d.support,
                    )
                )
        HotSpotMember.objects.bulk_create(members, batch_size=batch)
        written[0] += len(spots)
        pending.clear()

    def closed(group: Group) -> None:
        pending.append(group)
        if len(pending) >= FLUSH:
            flush()

    grouper = Grouper(weights, rules.grouping, closed)
    rows = (
        CaseTokens.objects.filter(scope=scope)
        .order_by("created_at", "case_id")
        .values_list(
            "case_id",
            "created_at",
            "terms",
            "places",
            "case__title",
            "case__address",
            "case__division_id",
            "case__reporter_id",
            "case__channel",
            f"case__data__{rules.reporters.phone_field}",
        )
    )
    for (
        case_id,
        created_at,
        words,
        places,
        title,
        address,
        division_id,
        reporter_id,
        channel,
        phone,
    ) in rows.iterator(chunk_size=batch):
        key = reporter_key(rules, case_id, channel, reporter_id, {rules.reporters.phone_field: phone})
        grouper.add(
            demand_of(
                case_id,
                created_at,
                title,
                words,
                places,
                key,
                address=address,
                division_id=division_id,
                support=support.get(case_id, 0),
            )
        )
    grouper.finish()
    if pending:
        flush()
    return {"demands": grouper.added, "groups": written[0]}
