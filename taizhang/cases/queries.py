"""Filtering and paging case lists: one implementation for the API, the UI and exports."""

from __future__ import annotations

import base64
import re
from datetime import date, datetime, time
from typing import Annotated, Any

from django.db.models import Q
from django.utils import timezone
from pydantic import AfterValidator, BaseModel, BeforeValidator
from pydantic_core import PydanticCustomError

from taizhang.errors import FieldError, invalid
from taizhang.org.models import Division, Unit

from .models import STATE_KINDS, Case

# The days a person may ask for. Near date.min and date.max a day has no local midnight in UTC or no day
# after it, and every day filter (day_start, `to` + 1 day) would overflow.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
DAY_OUT_OF_RANGE = f"日期须在 {FIRST_DAY} 至 {LAST_DAY} 之间"


def iso_day_text(value: Any) -> Any:
    """Text must be YYYY-MM-DD: pydantic alone would read "0" or "1700000000" as a Unix timestamp."""
    if isinstance(value, str) and not ISO_DAY.fullmatch(value.strip()):
        raise PydanticCustomError("date_parsing", "日期格式应为 YYYY-MM-DD")
    return value


def within_day_range(value: date) -> date:
    """A day a filter may use; `date_out_of_range` otherwise."""
    if not FIRST_DAY <= value <= LAST_DAY:
        raise PydanticCustomError("date_out_of_range", DAY_OUT_OF_RANGE)
    return value


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
Day = Annotated[date, BeforeValidator(iso_day_text), AfterValidator(within_day_range)]


class CaseFilter(BaseModel):
    """The filters of a case list; the API takes them as its query string, the pages as their form."""

    mechanism: str = ""
    state: list[str] = []
    state_kind: str = ""
    unit: str = ""
    division: str = ""
    grade: str = ""
    category: str = ""
    channel: str = ""
    overdue: bool | None = None
    # 督办: escalated up the org tree (supervision level above 0) and not yet closed.
    escalated: bool | None = None
    created_from: Day | None = None
    created_to: Day | None = None
    closed_from: Day | None = None
    closed_to: Day | None = None
    # The demands of one hot spot (热点, taizhang.insight), by its id.
    hotspot: int | None = None
    q: str = ""


def day_start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def apply_filter(qs, f: CaseFilter, now: datetime | None = None):
    """Narrow a (permission-filtered) case queryset; unknown unit or division codes are errors."""
    errors: list[FieldError] = []
    if f.mechanism:
        from taizhang.mechanisms.registry import get_registry

        if f.mechanism not in get_registry().mechanisms:
            errors.append(FieldError("mechanism", "unknown_mechanism", f"没有编码为 {f.mechanism} 的机制"))
        qs = qs.filter(mechanism=f.mechanism)
    if f.state:
        qs = qs.filter(state__in=f.state)
    if f.state_kind:
        if f.state_kind not in dict(STATE_KINDS):
            errors.append(FieldError("state_kind", "invalid_choice", f"无效的状态类型：{f.state_kind}"))
        qs = qs.filter(state_kind=f.state_kind)
    for attr in ("grade", "category", "channel"):
        if getattr(f, attr):
            qs = qs.filter(**{attr: getattr(f, attr)})
    if f.unit:
        unit = Unit.objects.filter(code=f.unit).first()
        if unit is None:
            errors.append(FieldError("unit", "unknown_unit", f"没有编码为 {f.unit} 的单位"))
        else:
            qs = qs.filter(unit__path__startswith=unit.path)
    if f.division:
        division = Division.objects.filter(code=f.division).first()
        if division is None:
            errors.append(FieldError("division", "unknown_division", f"没有编码为 {f.division} 的区划"))
        else:
            qs = qs.filter(division__path__startswith=division.path)
    if f.overdue is True:
        qs = qs.filter(overdue_since__isnull=False).exclude(state_kind="closed")
    elif f.overdue is False:
        qs = qs.filter(Q(overdue_since__isnull=True) | Q(state_kind="closed"))
    if f.escalated is True:
        qs = qs.filter(supervision_level__gt=0).exclude(state_kind="closed")
    elif f.escalated is False:
        qs = qs.filter(Q(supervision_level=0) | Q(state_kind="closed"))
    for attr in ("created", "closed"):
        start, end = getattr(f, f"{attr}_from"), getattr(f, f"{attr}_to")
        if start and end and start > end:
            errors.append(FieldError(f"{attr}_from", "invalid_range", "开始日期不能晚于结束日期"))
        if start:
            qs = qs.filter(**{f"{attr}_at__gte": day_start(start)})
        if end:
            qs = qs.filter(**{f"{attr}_at__lt": day_start(end) + timezone.timedelta(days=1)})
    if f.hotspot is not None:
        qs = qs.filter(hotspot_member__hotspot_id=f.hotspot)
    if f.q.strip():
        for word in f.q.split():
            qs = qs.filter(
                Q(title__icontains=word)
                | Q(description__icontains=word)
                | Q(number__icontains=word)
                | Q(address__icontains=word)
            )
    if errors:
        raise invalid(errors)
    return qs


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, value = raw.split(":", 1)
        if prefix != "id":
            raise ValueError
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise invalid([FieldError("cursor", "invalid_cursor", "分页游标无效")]) from None


def page(qs, cursor: str | None, limit: int) -> tuple[list[Case], str | None]:
    """Newest first; the cursor is the last id seen, so pages stay stable while cases are added."""
    qs = qs.order_by("-pk")
    if cursor:
        qs = qs.filter(pk__lt=decode_cursor(cursor))
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].pk) if more and rows else None
