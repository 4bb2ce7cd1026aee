"""Reading service requests and their updates: filters, bounded queries, the public record of a case.

Everything here is public (no key is needed), so it is the public ledger's content in Open311's shape:
the cases `taizhang.intake.public` calls public, their fields from `public_items` (redacted, places cut
to the community, coordinates as precise as the mechanism publishes), and of their history the rows
and texts the ledger shows (`progress.public_row`), redacted the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from taizhang.cases.models import Case, Transition
from taizhang.cases.queries import DAY_OUT_OF_RANGE, FIRST_DAY, LAST_DAY
from taizhang.clock.now import now as clock_now
from taizhang.mechanisms.registry import get_mechanism
from taizhang.org.models import Division

from ..portal.progress import PublicRow, public_row, shown_rows_q
from ..portal.redact import names_in, redact_text
from ..public import public_cases, public_items, public_q
from .keys import case_of_token
from .render import Open311Error, w3c
from .services import Service, all_services

MAX_ROWS = 1000
DEFAULT_SPAN = timedelta(days=90)
STATUSES = ("open", "closed")


def parse_when(raw: str, name: str) -> datetime:
    """A W3C datetime (an offset is expected; without one, local time) or a date (its start)."""
    value = raw.strip()
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), time.min)
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Open311Error(400, f"{name} 须为 W3C 日期时间，例如 2026-11-24T10:00:00+08:00") from None
    if not FIRST_DAY <= parsed.date() <= LAST_DAY:  # beyond, the moment has no UTC value to compare with
        raise Open311Error(400, f"{name}：{DAY_OUT_OF_RANGE}")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def id_list(raw: str, name: str) -> list[str]:
    """A comma-separated list of ids, at most MAX_ROWS."""
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if len(ids) > MAX_ROWS:
        raise Open311Error(400, f"{name} 最多 {MAX_ROWS} 个")
    return ids


def jurisdiction_of(code: str) -> Division | None:
    """The division named by jurisdiction_id (404 if unknown), or None when not given."""
    if not code.strip():
        return None
    division = Division.objects.filter(code=code.strip()).first()
    if division is None:
        raise Open311Error(404, f"没有编码为 {code.strip()} 的辖区（jurisdiction_id）")
    return division


def open311_cases() -> QuerySet[Case]:
    """The public cases of the mechanisms offered as services, with what a record needs: the related
    rows `public_items` reads and the id of the last history row the public sees (`note_id`)."""
    mechanisms = sorted({s.mech.code for s in all_services()})
    last_shown = Transition.objects.filter(shown_rows_q(), case=OuterRef("pk")).order_by("-seq")
    return (
        public_cases()
        .filter(mechanism__in=mechanisms)
        .select_related("division", "unit", "reporter")
        .annotate(note_id=Subquery(last_shown.values("pk")[:1]))
    )


@dataclass
class RequestQuery:
    """The parameters of GET requests."""

    service_request_id: str = ""
    service_code: str = ""
    start_date: str = ""
    end_date: str = ""
    status: str = ""
    jurisdiction_id: str = ""


def find_requests(q: RequestQuery) -> list[Case]:
    """GET requests: by ids (the other filters then do not apply), else by filters, newest first."""
    qs = open311_cases()
    ids = id_list(q.service_request_id, "service_request_id")
    if ids:
        return list(qs.filter(number__in=ids).order_by("-created_at", "-pk")[:MAX_ROWS])
    services = {s.code: s for s in all_services()}
    codes = id_list(q.service_code, "service_code")
    unknown = [c for c in codes if c not in services]
    if unknown:
        raise Open311Error(400, *(f"没有编码为 {c} 的服务（service_code）" for c in unknown))
    statuses = id_list(q.status.lower(), "status")
    if any(s not in STATUSES for s in statuses):
        raise Open311Error(400, "status 只能是 open 或 closed（可用逗号分隔）")
    end = parse_when(q.end_date, "end_date") if q.end_date.strip() else None
    start = parse_when(q.start_date, "start_date") if q.start_date.strip() else None
    if start is None:
        start = (end or clock_now()) - DEFAULT_SPAN
    if end is not None and start > end:
        raise Open311Error(400, "start_date 不能晚于 end_date")
    qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lte=end)
    if codes:
        qs = filter_services(qs, [services[c] for c in codes])
    if statuses == ["closed"]:
        qs = qs.filter(state_kind="closed")
    elif statuses == ["open"]:
        qs = qs.exclude(state_kind="closed")
    division = jurisdiction_of(q.jurisdiction_id)
    if division is not None:
        qs = qs.filter(division__path__startswith=division.path)
    return list(qs.order_by("-created_at", "-pk")[:MAX_ROWS])


def filter_services(qs: QuerySet[Case], services: list[Service]) -> QuerySet[Case]:
    """Cases of any of the services (a mechanism and one of its categories)."""
    cond = Q(pk__in=[])
    for s in services:
        cond |= Q(mechanism=s.mech.code, category=s.category)
    return qs.filter(cond)


def note(t: Transition, names: list[str]) -> str:
    """A history row as Open311 tells it: its (public) name, then the texts the ledger shows of it
    (a closing statement, a public field such as the answer, a rating comment), redacted."""
    mech = get_mechanism(t.case.mechanism)
    row: PublicRow | None = public_row(mech, t, lambda text: redact_text(text, names))
    if row is None:  # the query asked for shown rows only: nothing to say
        return ""
    definition = mech.transitions.get(t.code)
    label = (definition.public_name if definition and t.kind == "transition" else None) or t.name
    texts = [text for _label, text in row.texts] if t.kind != "create" else []
    return f"{label}：{'；'.join(texts)}" if texts else label


def public_state(mech_code: str, state: str) -> str:
    mech = get_mechanism(mech_code)
    definition = mech.states.get(state)
    return (definition.public_name or definition.name) if definition else state


def status_of(mech_code: str, state: str) -> str:
    definition = get_mechanism(mech_code).states.get(state)
    return "closed" if definition is not None and definition.kind == "closed" else "open"


def requests_data(cases: list[Case]) -> list[dict[str, Any]]:
    """The public records of cases from `open311_cases` (two queries: places and status notes)."""
    rows = Transition.objects.select_related("case__reporter").in_bulk(
        [c.note_id for c in cases if c.note_id]
    )
    out = []
    for case, item in zip(cases, public_items(cases), strict=True):
        t = rows.get(case.note_id)
        out.append(
            {
                "service_request_id": item.number,
                "status": "closed" if item.state_kind == "closed" else "open",
                "status_notes": (note(t, names_in(case)) if t is not None else "") or None,
                "service_name": item.category_name,
                "service_code": f"{item.mechanism}.{item.category}",
                "description": item.description,
                "agency_responsible": item.unit,
                "service_notice": item.state_name,
                "requested_datetime": w3c(item.created_at),
                "updated_datetime": w3c(item.updated_at),
                "expected_datetime": w3c(item.due_at),
                "address": item.address or item.place or None,
                "address_id": item.address_id,
                "zipcode": None,
                "lat": item.lat,
                "long": item.lon,
                "media_url": item.media_url,
            }
        )
    return out


def get_request(ref: str) -> Case:
    case = open311_cases().filter(number=ref).first()
    if case is None:
        raise Open311Error(404, f"没有编号为 {ref} 的服务请求")
    return case


def token_data(token: str) -> list[dict[str, Any]]:
    """GET tokens/{token}: the request a POST's token stands for."""
    case = case_of_token(token)
    if case is None:
        raise Open311Error(404, f"没有令牌 {token}")
    return [{"service_request_id": case.number, "token": token}]


@dataclass
class UpdateQuery:
    """The parameters of GET servicerequestupdates."""

    updated_after: str = ""
    start_date: str = ""
    end_date: str = ""
    service_request_id: str = ""
    jurisdiction_id: str = ""


def find_updates(q: UpdateQuery) -> list[dict[str, Any]]:
    """Public history rows after a moment, oldest first, at most MAX_ROWS (one query)."""
    if q.updated_after.strip():
        rows = Transition.objects.filter(created_at__gt=parse_when(q.updated_after, "updated_after"))
    elif q.start_date.strip():
        rows = Transition.objects.filter(created_at__gte=parse_when(q.start_date, "start_date"))
    else:
        raise Open311Error(400, "缺少 updated_after（W3C 日期时间）")
    if q.end_date.strip():
        rows = rows.filter(created_at__lte=parse_when(q.end_date, "end_date"))
    mechanisms = sorted({s.mech.code for s in all_services()})
    rows = rows.filter(shown_rows_q(), public_q("case__"), case__mechanism__in=mechanisms)
    ids = id_list(q.service_request_id, "service_request_id")
    if ids:
        rows = rows.filter(case__number__in=ids)
    division = jurisdiction_of(q.jurisdiction_id)
    if division is not None:
        rows = rows.filter(case__division__path__startswith=division.path)
    found = list(
        rows.select_related("case__reporter").order_by("created_at", "case_id", "seq")[: MAX_ROWS + 1]
    )
    if len(found) > MAX_ROWS:
        found = found[:MAX_ROWS]
        last = found[-1].created_at
        trimmed = [t for t in found if t.created_at != last]
        found = trimmed or found  # a whole page at one instant cannot be split better
    names: dict[int, list[str]] = {}
    return [
        {
            "update_id": t.hash,
            "service_request_id": t.case.number,
            "status": status_of(t.case.mechanism, t.to_state),
            "updated_datetime": w3c(t.created_at),
            "description": note(t, names.setdefault(t.case_id, names_in(t.case))),
            "media_url": None,
        }
        for t in found
    ]
