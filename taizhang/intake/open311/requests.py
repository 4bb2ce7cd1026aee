"""Reading service requests and their updates: filters, bounded queries, the public record of a case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from taizhang.cases.models import Case, IdempotencyKey, Transition
from taizhang.cases.queries import DAY_OUT_OF_RANGE, FIRST_DAY, LAST_DAY
from taizhang.clock.now import now as clock_now
from taizhang.mechanisms.registry import get_mechanism
from taizhang.org.models import Division

from .actions import KEY_PREFIX
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
    """Cases of the mechanisms offered as services, with what a record needs (no per-row queries)."""
    mechanisms = sorted({s.mech.code for s in all_services()})
    last_public = Transition.objects.filter(case=OuterRef("pk"), public=True).order_by("-seq")
    return (
        Case.objects.filter(mechanism__in=mechanisms)
        .select_related("unit")
        .annotate(
            note_kind=Subquery(last_public.values("kind")[:1]),
            note_code=Subquery(last_public.values("code")[:1]),
            note_name=Subquery(last_public.values("name")[:1]),
            note_opinion=Subquery(last_public.values("opinion")[:1]),
        )
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


def note(kind: str | None, name: str | None, opinion: str | None, mech_code: str, code: str | None) -> str:
    """The public text of a history row: its (public) name, and the opinion unless it is the report."""
    mech = get_mechanism(mech_code)
    t = mech.transitions.get(code or "")
    label = (t.public_name if t and t.public_name and kind == "transition" else None) or name or ""
    if opinion and kind != "create":
        return f"{label}：{opinion}"
    return label


def public_state(mech_code: str, state: str) -> str:
    mech = get_mechanism(mech_code)
    definition = mech.states.get(state)
    return (definition.public_name or definition.name) if definition else state


def status_of(mech_code: str, state: str) -> str:
    definition = get_mechanism(mech_code).states.get(state)
    return "closed" if definition is not None and definition.kind == "closed" else "open"


def number(value: Any) -> float | None:
    return float(value) if value is not None else None


def request_data(case: Case) -> dict[str, Any]:
    """The public record of a case: no reporter, no caller, no contact data."""
    mech = get_mechanism(case.mechanism)
    data = case.data or {}
    return {
        "service_request_id": case.number,
        "status": "closed" if case.state_kind == "closed" else "open",
        "status_notes": note(
            getattr(case, "note_kind", None),
            getattr(case, "note_name", None),
            getattr(case, "note_opinion", None),
            case.mechanism,
            getattr(case, "note_code", None),
        )
        or None,
        "service_name": mech.choice_name("category", case.category),
        "service_code": f"{case.mechanism}.{case.category}",
        "description": case.description or None,
        "agency_responsible": case.unit.name if case.unit_id else None,
        "service_notice": public_state(case.mechanism, case.state),
        "requested_datetime": w3c(case.created_at),
        "updated_datetime": w3c(case.updated_at),
        "expected_datetime": w3c(case.due_at),
        "address": case.address or None,
        "address_id": (data.get("open311") or {}).get("address_id"),
        "zipcode": None,
        "lat": number(case.lat),
        "long": number(case.lon),
        "media_url": data.get("media_url"),
    }


def get_request(ref: str) -> Case:
    case = open311_cases().filter(number=ref).first()
    if case is None:
        raise Open311Error(404, f"没有编号为 {ref} 的服务请求")
    return case


def token_data(token: str) -> list[dict[str, Any]]:
    """GET tokens/{token}: the request a POST's token stands for."""
    row = IdempotencyKey.objects.filter(key=KEY_PREFIX + token).select_related("case").first()
    if row is None:
        raise Open311Error(404, f"没有令牌 {token}")
    return [{"service_request_id": row.case.number, "token": token}]


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
    rows = rows.filter(public=True, case__mechanism__in=mechanisms)
    ids = id_list(q.service_request_id, "service_request_id")
    if ids:
        rows = rows.filter(case__number__in=ids)
    division = jurisdiction_of(q.jurisdiction_id)
    if division is not None:
        rows = rows.filter(case__division__path__startswith=division.path)
    values = list(
        rows.order_by("created_at", "case_id", "seq").values(
            "hash",
            "kind",
            "code",
            "name",
            "opinion",
            "to_state",
            "created_at",
            "case__number",
            "case__mechanism",
        )[: MAX_ROWS + 1]
    )
    if len(values) > MAX_ROWS:
        values = values[:MAX_ROWS]
        last = values[-1]["created_at"]
        trimmed = [v for v in values if v["created_at"] != last]
        values = trimmed or values  # a whole page at one instant cannot be split better
    return [
        {
            "update_id": v["hash"],
            "service_request_id": v["case__number"],
            "status": status_of(v["case__mechanism"], v["to_state"]),
            "updated_datetime": w3c(v["created_at"]),
            "description": note(v["kind"], v["name"], v["opinion"], v["case__mechanism"], v["code"]),
            "media_url": None,
        }
        for v in values
    ]
