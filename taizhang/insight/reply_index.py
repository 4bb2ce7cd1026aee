"""Reply quality in the database: scored when an answer's history row is written, listed for supervisors.

`score_transition` runs in the answer's own transaction (the Transition post_save hook of
`apps.py`, in a savepoint: a scoring failure never loses the answer). It reads the answer from the
row (`fields.reply`, else the case's current reply when the text did not change), the demand's title
and description, the document frequencies of the case's scope, and the deadline the case had before
the answer (the row's `due_at` change, else its `due_at`). Three queries; `taizhang replies rescore`
scores answers written before this existed or after the rules changed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Avg, Count, Exists, OuterRef, Q

from taizhang.cases.models import Case, Transition
from taizhang.cases.queries import day_start
from taizhang.errors import FieldError, forbidden, invalid
from taizhang.org.models import Division, Unit, User
from taizhang.org.scopes import grants_of

from .models import ReplyQuality
from .replies import ReplyScore, ReplyScorer
from .rules import ReplyRules, reply_rules
from .similar import Weights, scope_of
from .text import terms, tokens

_scorers: dict[int, ReplyScorer] = {}


def scorer_for(rules: ReplyRules) -> ReplyScorer:
    """One scorer (compiled patterns) per rules object."""
    if id(rules) not in _scorers:
        _scorers.clear() if len(_scorers) > 32 else None
        _scorers[id(rules)] = ReplyScorer(rules)
    return _scorers[id(rules)]


def reply_codes() -> set[str]:
    """Every transition code scored in some mechanism (a quick test before reading the case)."""
    rules = reply_rules()
    return {code for codes in rules.transitions.values() for code in codes}


def deadline_before(row: Transition) -> datetime | None:
    """The deadline the case had when the answer was given."""
    change = (row.changes or {}).get("due_at")
    if change is None:
        return row.due_at
    return datetime.fromisoformat(change[0]) if change[0] else None


def score_transition(row: Transition, *, replace: bool = False) -> ReplyQuality | None:
    """Score and store the answer of a reply row (None when the row is not an answer to score).

    A new row's score is inserted; `replace` overwrites an earlier score (`rescore --all`)."""
    if row.kind != "transition":
        return None
    case = Case.objects.only(
        "id", "region", "mechanism", "title", "description", "data", "unit_id", "created_at"
    ).get(pk=row.case_id)
    rules = reply_rules(case.region)
    if row.code not in rules.transitions.get(case.mechanism, []):
        return None
    answer = (
        ((row.changes or {}).get("fields.reply") or [None, None])[1] or (case.data or {}).get("reply") or ""
    )
    result = score_answer(case, answer, rules, replied_at=row.created_at, due_at=deadline_before(row))
    values = {
        "case": case,
        "unit_id": case.unit_id,
        "replied_at": row.created_at,
        "due_at": deadline_before(row),
        **stored_fields(result),
    }
    if replace:
        return ReplyQuality.objects.update_or_create(transition=row, defaults=values)[0]
    return ReplyQuality.objects.create(transition=row, **values)


def score_answer(case: Case, answer: str, rules: ReplyRules, *, replied_at=None, due_at=None) -> ReplyScore:
    """Score an answer to a case, with the idf of the case's scope."""
    words = set(terms(case.title, case.description)) | set(tokens(answer))
    weights = Weights(scope_of(case), words)
    return scorer_for(rules).score(
        case.title, case.description, answer, idf=weights.idf, replied_at=replied_at, due_at=due_at
    )


def stored_fields(result: ReplyScore) -> dict:
    return {
        **{k: v for k, v in result.components().items()},
        "overall": result.overall,
        "weak": result.weak,
        "reasons": result.reasons,
        "points": min(result.points, 32767),
        "addressed": min(result.addressed, 32767),
    }


def rescore(since: date | None = None, only_missing: bool = True, batch: int = 500) -> int:
    """Score the answers already in the history (those not scored yet, or all); returns how many."""
    rows = Transition.objects.filter(code__in=reply_codes(), kind="transition").order_by("pk")
    if since:
        rows = rows.filter(created_at__gte=day_start(since))
    if only_missing:
        rows = rows.exclude(Exists(ReplyQuality.objects.filter(transition_id=OuterRef("pk"))))
    done, last = 0, 0
    while True:
        chunk = list(rows.filter(pk__gt=last)[:batch])
        if not chunk:
            return done
        for row in chunk:
            done += score_transition(row, replace=not only_missing) is not None
        last = chunk[-1].pk


# ----------------------------------------------------------------------------------------- reading


def may_view_reply_quality(user: User) -> bool:
    """Who may read reply scores: supervisors (`viewer_roles` in replies.yaml: 派遣员, 领导, 纪委监督) and
    superusers. The one rule behind the API, the /replies/ page, the case page and the menu."""
    if user is None or not user.is_authenticated:
        return False
    roles = set(reply_rules().viewer_roles)
    return bool(user.is_superuser) or any(g.role in roles for g in grants_of(user))


def check_reply_viewer(user: User) -> None:
    """`may_view_reply_quality`, or 403."""
    if not may_view_reply_quality(user):
        raise forbidden("role_not_allowed", "答复质量仅供督办人员、领导和纪委监督查看")


def case_reply_scores(user: User, case: Case) -> dict[int, ReplyQuality] | None:
    """The scores of a case's answers by transition id, for a person who may read them (None otherwise).

    The case is one the person may see (the caller fetched it with `for_user`); one query."""
    if not may_view_reply_quality(user):
        return None
    return {q.transition_id: q for q in ReplyQuality.objects.filter(case=case)}


# Far beyond any ledger, and within what every database takes as an OFFSET (PostgreSQL: a bigint).
MAX_OFFSET = 10**9


def reply_quality_list(
    user: User,
    *,
    weak: bool | None = None,
    start: date | None = None,
    end: date | None = None,
    unit: str = "",
    division: str = "",
    order: str = "recent",
    limit: int = 50,
    offset: int = 0,
) -> dict:
    """The scored answers of the cases the person may see, with a summary over all that match.

    `order` "recent" (newest first) or "weakest" (lowest overall first); `end` is excluded; `unit`
    and `division` (codes) keep the answers of that unit's subtree, of cases filed in that division's.
    """
    check_reply_viewer(user)
    errors = []
    if order not in ("recent", "weakest"):
        errors.append(FieldError("order", "invalid_choice", "order 须为 recent 或 weakest"))
    if not 1 <= limit <= 200:
        errors.append(FieldError("limit", "out_of_range", "limit 须在 1 到 200 之间"))
    if not 0 <= offset <= MAX_OFFSET:
        errors.append(FieldError("offset", "out_of_range", f"offset 须在 0 到 {MAX_OFFSET} 之间"))
    if start and end and start >= end:
        errors.append(FieldError("from", "invalid_range", "开始日期须早于截止日期"))
    qs = ReplyQuality.objects.filter(Exists(Case.objects.for_user(user).filter(pk=OuterRef("case_id"))))
    for code, model, field, kind, lookup in (
        (unit, Unit, "unit", "单位", "unit__path__startswith"),
        (division, Division, "division", "区划", "case__division__path__startswith"),
    ):
        if not code:
            continue
        node = model.objects.filter(code=code).first()
        if node is None:
            errors.append(FieldError(field, f"unknown_{field}", f"没有编码为 {code} 的{kind}"))
        else:
            qs = qs.filter(**{lookup: node.path})
    if errors:
        raise invalid(errors)
    if weak is not None:
        qs = qs.filter(weak=weak)
    if start:
        qs = qs.filter(replied_at__gte=day_start(start))
    if end:
        qs = qs.filter(replied_at__lt=day_start(end))
    summary = qs.aggregate(answers=Count("pk"), weak=Count("pk", filter=Q(weak=True)), average=Avg("overall"))
    ordering = (
        ("-replied_at", "-transition_id")
        if order == "recent"
        else ("overall", "-replied_at", "-transition_id")
    )
    rows = qs.select_related("case", "unit").order_by(*ordering)[offset : offset + limit]
    return {
        "summary": {
            **summary,
            "average": round(summary["average"], 3) if summary["average"] is not None else None,
        },
        "items": [item_of(q) for q in rows],
        "next_offset": offset + limit if offset + limit < summary["answers"] else None,
    }


def item_of(q: ReplyQuality) -> dict:
    late = None
    if q.due_at is not None and q.replied_at > q.due_at:
        late = round((q.replied_at - q.due_at) / timedelta(days=1), 2)
    return {
        "number": q.case.number,
        "title": q.case.title,
        "unit": q.unit.name if q.unit else "",
        "replied_at": q.replied_at,
        "due_at": q.due_at,
        "days_late": late,
        "relevance": q.relevance,
        "completeness": q.completeness,
        "interpretability": q.interpretability,
        "timeliness": q.timeliness,
        "overall": q.overall,
        "weak": q.weak,
        "reasons": q.reasons,
        "points": q.points,
        "addressed": q.addressed,
    }
