"""The single time service: every deadline of Taizhang is computed here.

Units: ``days`` (calendar days), ``hours`` and ``minutes`` (real time), ``workdays`` (whole working days,
deadline at the end of the last one), ``workhours`` (time inside business hours of working days) and the
calendar periods ``months``, ``quarters`` (3 months), ``halfyears`` (6 months) and ``years``: the same day of
the month that many months later, or the last day of that month when it has no such day (1月31日 + 1个月 =
2月末; 民法典第二百零二条).
"""

from __future__ import annotations

import calendar as gregorian
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext, ngettext

from .calendar import WorkCalendar

TIME_ZONE = "Asia/Shanghai"
DEFAULT_BUSINESS_HOURS: tuple[tuple[time, time], ...] = (
    (time(8, 30), time(12, 0)),
    (time(14, 0), time(17, 30)),
)
END_OF_DAY = time(23, 59, 59)

UNITS: dict[str, tuple[str, ...]] = {
    "days": ("自然日", "天", "日"),
    "workdays": ("工作日",),
    "workhours": ("工作时", "工作小时"),
    "hours": ("小时",),
    "minutes": ("分钟",),
    "months": ("月", "个月"),
    "quarters": ("季度", "个季度"),
    "halfyears": ("半年", "个半年"),
    "years": ("年",),
}
# Calendar periods, in months.
MONTHS_PER = {"months": 1, "quarters": 3, "halfyears": 6, "years": 12}
_ALIASES = {alias: unit for unit, aliases in UNITS.items() for alias in (unit, *aliases)}
_LABELS = {
    "days": "天",
    "workdays": "个工作日",
    "workhours": "个工作时",
    "hours": "小时",
    "minutes": "分钟",
    "months": "个月",
    "quarters": "个季度",
    "halfyears": "个半年",
    "years": "年",
}
_US_PER = {"minutes": 60_000_000, "hours": 3_600_000_000, "workhours": 3_600_000_000, "days": 86_400_000_000}
# Units that must be whole: a working day and a calendar period have no fraction the calendar could place.
WHOLE_UNITS = ("workdays", *MONTHS_PER)
# 1e-12 of an hour or a day is far below a microsecond, so amounts from remaining() convert back exactly.
_PRECISION = Decimal("1e-12")
_DURATION_RE = re.compile(r"\s*([+-]?\d+(?:\.\d+)?)\s*(\S.*?)\s*")


def parse_unit(s: str) -> str:
    """Canonical unit name (``days``/``workdays``/``workhours``/``hours``) for a name or Chinese alias."""
    key = s.strip()
    key = key.lower() if key.isascii() else key.removeprefix("个")
    try:
        return _ALIASES[key]
    except KeyError:
        accepted = "、".join(f"{unit}（{'/'.join(aliases)}）" for unit, aliases in UNITS.items())
        raise ValueError(f"未知的时限单位“{s}”，可用：{accepted}") from None


@dataclass(frozen=True)
class Duration:
    """A time limit such as 3 working days; ``amount`` is never negative."""

    amount: Decimal
    unit: str

    def __post_init__(self) -> None:
        try:
            amount = Decimal(str(self.amount)) if not isinstance(self.amount, Decimal) else self.amount
        except InvalidOperation:
            raise ValueError(f"时限数值无效：{self.amount!r}") from None
        if not amount.is_finite():
            raise ValueError(f"时限数值无效：{self.amount!r}")
        if amount < 0:
            raise ValueError(f"时限不能为负数：{amount}")
        # Frozen dataclass: normalise the fields in place once.
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "unit", parse_unit(self.unit))

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse ``"3 工作日"``, ``"3个工作日"``, ``"0.5 workhours"``, ``"2小时"`` …"""
        match = _DURATION_RE.fullmatch(text)
        if not match:
            raise ValueError(f"无法识别的时限“{text}”，应为数值加单位，例如“3 工作日”“2 小时”")
        return cls(Decimal(match.group(1)), match.group(2))

    def __str__(self) -> str:
        return f"{_format_amount(self.amount)}{_LABELS[self.unit]}"


def _format_amount(amount: Decimal) -> str:
    text = f"{amount:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _from_us(us: int, unit: str) -> Decimal:
    amount = (Decimal(us) / Decimal(_US_PER[unit])).quantize(_PRECISION, rounding=ROUND_HALF_EVEN)
    # Drop the trailing zeros of whole values: Decimal("2"), not Decimal("2.000000000000").
    return Decimal(_format_amount(amount))


def _to_us(amount: Decimal, unit: str) -> int:
    return int((amount * _US_PER[unit]).to_integral_value(rounding=ROUND_HALF_EVEN))


def _whole(amount: Decimal, unit: str) -> int:
    if amount != amount.to_integral_value():
        what = "工作日" if unit == "workdays" else "按月、季度、半年或年计算的"
        raise ValueError(f"{what}时限必须是整数：{_format_amount(amount)}")
    return int(amount)


def add_months(moment: datetime, months: int) -> datetime:
    """The same wall-clock time `months` later (earlier when negative), on the same day of the month or,
    when that month is shorter, on its last day (1月31日 + 1个月 = 2月28日/29日)."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    last = gregorian.monthrange(year, month + 1)[1]
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last))


def _span_us(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class Clock:
    """Adds time limits to moments and measures what is left, on a :class:`WorkCalendar`."""

    def __init__(
        self,
        calendar: WorkCalendar,
        business_hours: Sequence[tuple[time, time]] | None = None,
        tz: str | ZoneInfo = TIME_ZONE,
    ) -> None:
        self.calendar = calendar
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        hours = list(business_hours) if business_hours is not None else list(DEFAULT_BUSINESS_HOURS)
        if not hours:
            raise ValueError("business_hours 不能为空")
        for i, (opens, closes) in enumerate(hours):
            if not opens < closes:
                raise ValueError(f"办公时段 {opens:%H:%M}-{closes:%H:%M} 的开始时间应早于结束时间")
            if i and opens < hours[i - 1][1]:
                raise ValueError("办公时段应按时间顺序排列且互不重叠")
        self.business_hours: tuple[tuple[time, time], ...] = tuple(hours)

    # -- helpers -------------------------------------------------------------------------------------

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"需要带时区的时间，收到 {moment!r}")
        return moment.astimezone(self.tz)

    def _end_of(self, d: date) -> datetime:
        return datetime.combine(d, END_OF_DAY, tzinfo=self.tz)

    def _intervals_from(self, d: date) -> Iterator[tuple[datetime, datetime]]:
        """Business intervals of working days from day ``d`` onwards, in order (endless)."""
        while True:
            if self.calendar.is_workday(d):
                for opens, closes in self.business_hours:
                    yield (
                        datetime.combine(d, opens, tzinfo=self.tz),
                        datetime.combine(d, closes, tzinfo=self.tz),
                    )
            d += timedelta(days=1)

    def business_time(self, start: datetime, end: datetime) -> timedelta:
        """Time inside business hours of working days between ``start`` and ``end`` (zero if end <= start)."""
        start, end = self._local(start), self._local(end)
        total = timedelta(0)
        if end <= start:
            return total
        for opens, closes in self._intervals_from(start.date()):
            if opens >= end:
                break
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += hi - lo
        return total

    # -- public API ----------------------------------------------------------------------------------

    def add(self, start: datetime, duration: Duration) -> datetime:
        """The deadline ``duration`` after ``start``, as an aware datetime in local time."""
        local = self._local(start)
        unit, amount = duration.unit, duration.amount
        if unit in ("hours", "minutes"):
            # Real elapsed time: compute in UTC so a zone with daylight saving would still be right.
            return (local.astimezone(UTC) + timedelta(microseconds=_to_us(amount, unit))).astimezone(self.tz)
        if unit == "days":
            # Same wall-clock time N days later (fractions of a day count as wall-clock hours).
            naive = local.replace(tzinfo=None) + timedelta(microseconds=_to_us(amount, unit))
            return naive.replace(tzinfo=self.tz)
        if unit in MONTHS_PER:
            naive = add_months(local.replace(tzinfo=None), _whole(amount, unit) * MONTHS_PER[unit])
            return naive.replace(tzinfo=self.tz)
        if unit == "workdays":
            return self._add_workdays(local, _whole(amount, unit))
        return self._add_workhours(local, _to_us(amount, unit))

    def _add_workdays(self, local: datetime, n: int) -> datetime:
        day = local.date()
        if n == 0:
            # "0 个工作日" means "within today", or within the next working day if today is a day off.
            return self._end_of(day if self.calendar.is_workday(day) else self.calendar.next_workday(day))
        for _ in range(n):
            day = self.calendar.next_workday(day)
        return self._end_of(day)

    def _add_workhours(self, local: datetime, us: int) -> datetime:
        left = timedelta(microseconds=us)
        for opens, closes in self._intervals_from(local.date()):
            # Closing time counts as inside: a deadline that lands on 12:00 stays at 12:00,
            # and resuming at 12:00 with nothing left reproduces it.
            if closes < local or (us and closes == local):
                continue
            begin = max(opens, local)
            if left <= closes - begin:
                return begin + left
            left -= closes - begin
        raise AssertionError("unreachable: business intervals are endless")

    def subtract(self, due: datetime, duration: Duration) -> datetime:
        """The moment ``duration`` before ``due`` (used for reminders such as "1 工作日 before the deadline").

        hours/days mirror :meth:`add`. Workhours walk business time backwards and stop at the latest
        moment with that much business time left (an opening rather than the previous evening).
        Workdays give the start of business on the N-th working day before ``due``'s date: the moment
        from which :meth:`remaining` reports N working days; 0 workdays is ``due`` itself.
        """
        local = self._local(due)
        unit, amount = duration.unit, duration.amount
        if unit in ("hours", "minutes"):
            return (local.astimezone(UTC) - timedelta(microseconds=_to_us(amount, unit))).astimezone(self.tz)
        if unit == "days":
            naive = local.replace(tzinfo=None) - timedelta(microseconds=_to_us(amount, unit))
            return naive.replace(tzinfo=self.tz)
        if unit in MONTHS_PER:
            naive = add_months(local.replace(tzinfo=None), -_whole(amount, unit) * MONTHS_PER[unit])
            return naive.replace(tzinfo=self.tz)
        if unit == "workdays":
            if _whole(amount, unit) == 0:
                return local
            day = local.date()
            for _ in range(int(amount)):
                day = self.calendar.previous_workday(day)
            return datetime.combine(day, self.business_hours[0][0], tzinfo=self.tz)
        us = _to_us(amount, unit)
        if us == 0:
            return local
        left = timedelta(microseconds=us)
        for opens, closes in self._intervals_before(local.date()):
            if opens >= local:
                continue
            end = min(closes, local)
            if left <= end - opens:
                return end - left
            left -= end - opens
        raise AssertionError("unreachable: business intervals are endless")

    def _intervals_before(self, d: date) -> Iterator[tuple[datetime, datetime]]:
        """Business intervals of working days from the end of day ``d`` backwards (endless)."""
        while True:
            if self.calendar.is_workday(d):
                for opens, closes in reversed(self.business_hours):
                    yield (
                        datetime.combine(d, opens, tzinfo=self.tz),
                        datetime.combine(d, closes, tzinfo=self.tz),
                    )
            d -= timedelta(days=1)

    def remaining(self, now: datetime, due: datetime, unit: str) -> Duration:
        """Time left from ``now`` until ``due`` measured in ``unit``, for stopping and resuming a clock.

        ``add(now, remaining(now, due, unit))`` gives back ``due`` for deadlines made by ``add`` in
        that unit. Workdays count the working days in (now's date, due's date]; workhours, hours, minutes
        and days are exact (not rounded, so the round trip holds to the microsecond). Calendar periods
        have no fixed length, so what is left of them is given in (exact) days. Zero once ``due <= now``.
        """
        unit = parse_unit(unit)
        if unit in MONTHS_PER:
            unit = "days"
        now, due = self._local(now), self._local(due)
        if due <= now:
            return Duration(Decimal(0), unit)
        if unit == "workdays":
            return Duration(Decimal(self.calendar.workdays_between(now.date(), due.date())), unit)
        if unit == "workhours":
            span = self.business_time(now, due)
        elif unit == "days":
            span = due.replace(tzinfo=None) - now.replace(tzinfo=None)  # wall clock, as add() counts days
        else:
            span = due - now
        return Duration(_from_us(_span_us(span), unit), unit)

    def overdue_by(self, now: datetime, due: datetime) -> timedelta:
        """How long ``due`` has passed at ``now`` in real time; zero if not overdue."""
        return max(self._local(now) - self._local(due), timedelta(0))

    def describe_left(self, now: datetime, due: datetime, unit: str) -> str:
        """The time left in the active language, e.g. "剩余2个工作日", "剩余3小时15分", "已超期1天4小时"."""
        unit = parse_unit(unit)
        now, due = self._local(now), self._local(due)
        if now > due:
            return gettext("已超期%(span)s") % {"span": _format_span(now - due, with_days=True)}
        if now == due:
            return gettext("已到期")
        if unit == "workdays":
            left = self.calendar.workdays_between(now.date(), due.date())
            if not left:
                return gettext("今日到期")
            return ngettext("剩余%(n)d个工作日", "剩余%(n)d个工作日", left) % {"n": left}
        if unit == "workhours":
            span = _format_span(self.business_time(now, due), with_days=False)
            return gettext("剩余工作时间%(span)s") % {"span": span}
        with_days = unit == "days" or unit in MONTHS_PER
        return gettext("剩余%(span)s") % {"span": _format_span(due - now, with_days=with_days)}


def _format_span(span: timedelta, *, with_days: bool) -> str:
    """Format as 1天4小时 / 3小时15分 / 40分; minutes round down so time left is never overstated."""
    minutes = int(span.total_seconds() // 60)
    if minutes == 0:
        return gettext("不足1分钟")
    days, rest = divmod(minutes, 1440) if with_days else (0, minutes)
    hours, mins = divmod(rest, 60)
    if days:
        if hours:
            return gettext("%(days)d天%(hours)d小时") % {"days": days, "hours": hours}
        return gettext("%(days)d天") % {"days": days}
    if hours:
        if mins:
            return gettext("%(hours)d小时%(minutes)d分") % {"hours": hours, "minutes": mins}
        return gettext("%(hours)d小时") % {"hours": hours}
    return gettext("%(minutes)d分") % {"minutes": mins}


# ---------------------------------------------------------------------------------------------------------
# The process-wide clock


_clock: Clock | None = None
_clock_lock = threading.Lock()


def parse_business_hours(spec: Sequence[str | tuple[time, time]]) -> list[tuple[time, time]]:
    """Turn ``["08:30-12:00", "14:00-17:30"]`` into time pairs (pairs of ``time`` pass through)."""
    hours: list[tuple[time, time]] = []
    for item in spec:
        if isinstance(item, tuple):
            hours.append(item)
            continue
        try:
            opens, closes = (time.fromisoformat(part.strip()) for part in item.split("-"))
        except ValueError:
            raise ValueError(f"办公时段格式错误：“{item}”，应为 HH:MM-HH:MM，例如 08:30-12:00") from None
        hours.append((opens, closes))
    return hours


def _setting(name: str, default: object) -> object:
    # Unconfigured settings raise on attribute access, so plain scripts and pure tests use the defaults.
    return getattr(settings, name, default) if settings.configured else default


def get_clock() -> Clock:
    """The shared clock, built once from the TAIZHANG_CALENDAR_* and TAIZHANG_BUSINESS_HOURS settings."""
    global _clock
    with _clock_lock:
        if _clock is None:
            data_dir = _setting("TAIZHANG_CALENDAR_DIR", None)
            calendar = WorkCalendar(
                data_dir=Path(data_dir) if data_dir else None,
                unknown_year=_setting("TAIZHANG_CALENDAR_UNKNOWN_YEAR", "error"),
            )
            hours = _setting("TAIZHANG_BUSINESS_HOURS", None)
            _clock = Clock(calendar, parse_business_hours(hours) if hours else None)
        return _clock


def reset_clock() -> None:
    """Forget the shared clock so the next :func:`get_clock` reads the settings again (for tests)."""
    global _clock
    with _clock_lock:
        _clock = None
