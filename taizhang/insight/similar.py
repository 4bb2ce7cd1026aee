"""Similar open cases: the index kept at case creation and the matcher the dispatcher sees at intake.

**Index.** Each case gets a `CaseTokens` row (its words with counts, its places), one `CaseTerm`
posting per distinct word and per place ("@联丰路"), and one upsert of `TermCount` (document
frequencies per scope = district:mechanism). Three statements per case, written in the creation's
transaction, so the case and its index commit or roll back together.

**Lookup** of the cases like case C, among the open cases of the same scope created in the last N days
that the caller may see (a fixed number of queries, whatever the number of cases):

1. C's words and places are read from C's text (no query); their document frequencies are read.
2. Candidates: the postings of C's rarest words and places (at most `QUERY_TERMS`, skipping words in
   more than `COMMON_SHARE` of the scope's cases) are summed per case with IDF weights, in SQL,
   restricted to visible open cases of the window; the best `RERANK` cases are kept.
3. Re-rank: for those, the exact scores below from their stored words and places.

**Score** = `TEXT_WEIGHT` · text + `PLACE_WEIGHT` · place, both in [0, 1], scaled by problem / `MIN_PROBLEM`
when the problem score is below `MIN_PROBLEM` (the same place alone is not the same problem):

* text: cosine of TF-IDF vectors, tf = 1 + ln(count) (title words count double), idf = ln((N+1)/(df+1)) + 1;
* problem: the same cosine without the words that make up either case's place names;
* place: the strongest of — shared place names (IDF-weighted overlap: shared ÷ the smaller side);
  the same normalised address (1); distance when both have coordinates (≤150 m: 1, ≤500 m: 0.6,
  ≤1 km: 0.3, beyond: 0); the same grid/community division (`SAME_DIVISION`). When neither case names
  a place the place score is `PLACE_UNKNOWN` (neutral), so text alone can still suggest.

A case is suggested when its score reaches `THRESHOLD` (chosen on the labelled pairs of
bench/labels/hot_messages_pairs.csv; see bench/README.md for precision and recall).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case as SqlCase
from django.db.models import Exists, FloatField, OuterRef, QuerySet, Sum, Value, When
from django.utils.translation import gettext as _

from taizhang.bulk import PlannerStatistics, RowInserter
from taizhang.cases.models import Case

from .models import CaseTerm, CaseTokens, TermCount
from .text import DESCRIPTION_CHARS, normalise, places, terms

TEXT_WEIGHT = 0.7
PLACE_WEIGHT = 0.3
PLACE_UNKNOWN = 0.3
SAME_DIVISION = 0.5
THRESHOLD = 0.35
MIN_PROBLEM = 0.15
QUERY_TERMS = 24
COMMON_SHARE = 0.2
RERANK = 50
PLACE_PREFIX = "@"
TERM_MAX = 64  # CaseTerm.term's length


def scope_of(case: Case) -> str:
    """Cases are compared within one district (region) and one mechanism."""
    return f"{case.region}:{case.mechanism}"


def case_words(case: Case) -> tuple[dict[str, int], list[str]]:
    """The words (with counts) and the place names of a case, from its title, description and address."""
    words = terms(case.title, case.description)
    found = places(case.title, (case.description or "")[:DESCRIPTION_CHARS], case.address or "")
    return words, sorted(p for p in found if len(p) < TERM_MAX)


def index_terms(words: dict[str, int], found: Iterable[str]) -> list[str]:
    """The distinct postings of a case: its words and its places prefixed with "@"."""
    out = [w for w in words if len(w) <= TERM_MAX]
    out += [PLACE_PREFIX + p for p in found]
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------------------------- index


def index_cases(cases: Iterable[Case], batch: int = 5000, fresh: bool = False) -> int:
    """Index cases for the matcher (idempotent: a case already indexed is skipped); returns how many.

    Three statements per call whatever the number of cases (more only past `batch` postings). `fresh`:
    the cases were inserted just now, so none can be indexed yet and that is not looked up.
    """
    cases = [c for c in cases if c.pk is not None]
    done: set[int] = set()
    if not fresh:
        done = set(
            CaseTokens.objects.filter(case__in=[c.pk for c in cases]).values_list("case_id", flat=True)
        )
    rows, postings, counts = [], [], {}
    for case in cases:
        if case.pk in done:
            continue
        done.add(case.pk)
        words, found = case_words(case)
        scope, at = scope_of(case), case.created_at
        rows.append({"case_id": case.pk, "scope": scope, "created_at": at, "terms": words, "places": found})
        for term in index_terms(words, found):
            postings.append({"case_id": case.pk, "scope": scope, "term": term, "created_at": at})
            counts[(scope, term)] = counts.get((scope, term), 0) + 1
        counts[(scope, "")] = counts.get((scope, ""), 0) + 1
    if not rows:
        return 0
    # Dozens of postings per case: the ORM's per-value compilation was most of the indexing time.
    # One transaction: tokens, postings and counts go in together (and SQLite commits once). Inside
    # a caller's transaction no savepoint of its own: the caller's (intake's hook has one) decides.
    with transaction.atomic(savepoint=False):
        RowInserter(CaseTokens, with_pk=True).insert(rows)
        RowInserter(CaseTerm, with_pk=False).insert(postings)
        add_counts(counts, batch)
    return len(rows)


def index_missing(batch: int = 2000) -> int:
    """Index every case not indexed yet (created before the index, or imported in bulk); returns how many."""
    todo = Case.objects.filter(tokens__isnull=True).order_by("pk")
    done = 0
    while chunk := list(todo[:batch]):
        done += index_cases(chunk)
    if done:
        PlannerStatistics(CaseTerm, TermCount, CaseTokens).refresh()  # after a bulk load (taizhang.bulk)
    return done


def add_counts(counts: dict[tuple[str, str], int], batch: int) -> None:
    """Increment document frequencies with one upsert per batch (PostgreSQL and SQLite alike).

    Rows are sorted, so concurrent creations lock them in the same order and cannot deadlock.
    """
    table = connection.ops.quote_name(TermCount._meta.db_table)
    items = sorted(counts.items())
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        values = ", ".join(["(%s, %s, %s)"] * len(chunk))
        params = [x for (scope, term), n in chunk for x in (scope, term, n)]
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} (scope, term, df) VALUES {values} "
                f"ON CONFLICT (scope, term) DO UPDATE SET df = {table}.df + excluded.df",
                params,
            )


# -------------------------------------------------------------------------------------------- scoring


@dataclass
class Suggestion:
    """A case that looks like the same problem, with its score and why."""

    case: Case
    score: float
    text: float
    place: float
    reasons: list[str] = field(default_factory=list)


class Weights:
    """IDF weights of one scope: idf = ln((N+1)/(df+1)) + 1, from `TermCount`."""

    def __init__(self, scope: str, needed: Iterable[str]) -> None:
        wanted = {"", *needed}
        found = dict(TermCount.objects.filter(scope=scope, term__in=wanted).values_list("term", "df"))
        self.n = found.pop("", 0)
        self.df = found

    def add(self, scope: str, needed: Iterable[str]) -> None:
        """Load the frequencies of more words (one query)."""
        missing = [t for t in needed if t not in self.df]
        if missing:
            self.df.update(TermCount.objects.filter(scope=scope, term__in=missing).values_list("term", "df"))

    def idf(self, term: str) -> float:
        return math.log((self.n + 1) / (self.df.get(term, 0) + 1)) + 1

    def vector(self, words: dict[str, int]) -> dict[str, float]:
        """TF-IDF weights, tf = 1 + ln(count), scaled to unit length."""
        vec = {w: (1 + math.log(n)) * self.idf(w) for w, n in words.items() if n > 0}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {w: v / norm for w, v in vec.items()}


def text_score(a: dict[str, float], b: dict[str, float]) -> float:
    """Cosine of two unit vectors."""
    if len(a) > len(b):
        a, b = b, a
    return min(1.0, sum(v * b.get(w, 0.0) for w, v in a.items()))


def place_score(weights: Weights, a: Case, a_places: list[str], b: Case, b_places: list[str]):
    """(score, reasons) of "the same place", the strongest of the signals (see the module docstring)."""
    best, reasons = 0.0, []
    shared = sorted(set(a_places) & set(b_places))
    if shared:

        def mass(names: Iterable[str]) -> float:
            return sum(weights.idf(PLACE_PREFIX + p) for p in names)

        best = min(1.0, mass(shared) / max(min(mass(a_places), mass(b_places)), 1e-9))
        reasons.append(_("同一地点：%(places)s") % {"places": "、".join(shared[:3])})
    if a.address and b.address and normalise(a.address) == normalise(b.address):
        best = 1.0
        reasons.append(_("地址相同：%(address)s") % {"address": b.address})
    metres = distance_m(a, b)
    if metres is not None:
        near = 1.0 if metres <= 150 else 0.6 if metres <= 500 else 0.3 if metres <= 1000 else 0.0
        if near:
            reasons.append(_("相距约 %(metres)s 米") % {"metres": f"{metres:.0f}"})
        best = max(best, near)
    if a.division_id == b.division_id and SAME_DIVISION > best:
        best = SAME_DIVISION
        reasons.append(_("同一区划"))
    known = bool(a_places or a.address or a.lat is not None) and bool(
        b_places or b.address or b.lat is not None
    )
    if not known and not reasons:
        best = PLACE_UNKNOWN
    return best, reasons


def distance_m(a: Case, b: Case) -> float | None:
    """Great-circle distance in metres, None unless both cases have coordinates."""
    if None in (a.lat, a.lon, b.lat, b.lon):
        return None
    lat1, lon1, lat2, lon2 = (math.radians(float(x)) for x in (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(min(1.0, h)))


def score_pair(weights: Weights, a: Case, a_words, a_places, b: Case, b_words, b_places) -> Suggestion:
    """The score of b as the same problem as a, with the reasons a dispatcher reads.

    Besides the text score, a "problem" score leaves out the words that make up either case's place
    names (丽发, 新城 of 丽发新城): below `MIN_PROBLEM` the score is scaled down in proportion, so that
    the same place with another problem (an estate's lift and its noisy neighbour) is not suggested.
    """
    text = text_score(weights.vector(a_words), weights.vector(b_words))
    named = set(a_places) | set(b_places)
    problem = text
    if named:
        a_rest = {w: n for w, n in a_words.items() if not any(w in p for p in named)}
        b_rest = {w: n for w, n in b_words.items() if not any(w in p for p in named)}
        problem = text_score(weights.vector(a_rest), weights.vector(b_rest))
    place, reasons = place_score(weights, a, a_places, b, b_places)
    score = TEXT_WEIGHT * text + PLACE_WEIGHT * place
    if problem < MIN_PROBLEM:
        score *= problem / MIN_PROBLEM
    return Suggestion(
        b,
        round(score, 3),
        round(text, 3),
        round(place, 3),
        [_("文字相似度 %(score)s") % {"score": f"{text:.2f}"}, *reasons],
    )


# --------------------------------------------------------------------------------------------- lookup


def window_start(now: datetime, days: int | None = None) -> datetime:
    """The earliest creation time of a candidate: N days back (TAIZHANG_SIMILAR_DAYS, default 30)."""
    return now - timedelta(days=days if days is not None else getattr(settings, "TAIZHANG_SIMILAR_DAYS", 30))


def candidates(case: Case, visible: QuerySet, since: datetime | None) -> QuerySet:
    """The open cases of C's scope in the window among `visible`, C itself excluded."""
    qs = visible.filter(mechanism=case.mechanism, region=case.region).exclude(state_kind="closed")
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return qs.exclude(pk=case.pk)


def similar_cases(
    case: Case,
    visible: QuerySet,
    *,
    since: datetime | None,
    limit: int = 5,
    threshold: float = THRESHOLD,
) -> list[Suggestion]:
    """The open cases among `visible` that look like the same problem as `case`, best first.

    `visible` is the caller's permission queryset (`Case.objects.for_user(user)`); `since` the window
    start (None: no window). Four queries whatever the number of cases.
    """
    scope = scope_of(case)
    words, found = case_words(case)
    query = index_terms(words, found)
    if not query:
        return []
    weights = Weights(scope, query)
    cap = max(20, COMMON_SHARE * weights.n)
    usable = [t for t in query if 0 < weights.df.get(t, 0) <= cap]
    usable.sort(key=lambda t: weights.df[t])
    chosen = usable[:QUERY_TERMS]
    if not chosen:
        return []
    qvec = weights.vector(words)
    # Words weigh as in the dot product; a place as a typical word (the re-rank scores it properly).
    term_weight = {t: (qvec.get(t) or 0.2) * weights.idf(t) for t in chosen}
    # A correlated EXISTS, checked for the few postings of rare words only: `case_id IN (visible)`
    # would first list every visible open case of the window (~250 ms at 100k on SQLite).
    allowed = candidates(case, visible, since).filter(pk=OuterRef("case_id"))
    postings = CaseTerm.objects.filter(scope=scope, term__in=chosen).filter(Exists(allowed))
    if since is not None:
        postings = postings.filter(created_at__gte=since)
    relevance = Sum(
        SqlCase(*[When(term=t, then=Value(w)) for t, w in term_weight.items()], default=Value(0.0)),
        output_field=FloatField(),
    )
    top = list(
        postings.values("case_id")
        .annotate(r=relevance)
        .order_by("-r", "-case_id")
        .values_list("case_id", flat=True)[:RERANK]
    )
    if not top:
        return []
    rows = list(
        Case.objects.filter(pk__in=top)
        .select_related("tokens", "division")
        .only(
            "id",
            "number",
            "title",
            "state",
            "state_kind",
            "mechanism",
            "created_at",
            "address",
            "lat",
            "lon",
            "division_id",
            "division__name",
            "tokens__terms",
            "tokens__places",
        )
    )
    weights.add(
        scope,
        {w for r in rows for w in r.tokens.terms} | {PLACE_PREFIX + p for r in rows for p in r.tokens.places},
    )
    scored = [score_pair(weights, case, words, found, r, r.tokens.terms, r.tokens.places) for r in rows]
    scored = [s for s in scored if s.score >= threshold]
    scored.sort(key=lambda s: (-s.score, -s.case.pk))
    return scored[:limit]
