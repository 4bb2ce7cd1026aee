"""Deadline arithmetic: units, Duration, add(), remaining() round trip, texts and the shared clock."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from taizhang.clock import clock as clock_module
from taizhang.clock.calendar import CalendarYearUnknown, WorkCalendar
from taizhang.clock.clock import UNITS, Clock, Duration, get_clock, parse_unit, reset_clock

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
CLOCK = Clock(CAL)


def at(text: str) -> datetime:
    """Local Shanghai time from "2026-02-13 16:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def add(start: str, duration: str) -> datetime:
    return CLOCK.add(at(start), Duration.parse(duration))


# -- units and Duration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("days", "days"),
        ("自然日", "days"),
        ("天", "days"),
        ("日", "days"),
        ("工作日", "workdays"),
        ("个工作日", "workdays"),
        ("工作时", "workhours"),
        ("工作小时", "workhours"),
        ("小时", "hours"),
        ("Hours", "hours"),
    ],
)
def test_parse_unit(text: str, unit: str) -> None:
    assert parse_unit(text) == unit


def test_parse_unit_error_lists_units() -> None:
    with pytest.raises(ValueError) as info:
        parse_unit("周")
    for unit, aliases in UNITS.items():
        assert unit in str(info.value)
        assert all(alias in str(info.value) for alias in aliases)


@pytest.mark.parametrize(
    ("text", "amount", "unit", "shown"),
    [
        ("3 工作日", "3", "workdays", "3个工作日"),
        ("3个工作日", "3", "workdays", "3个工作日"),
        ("2小时", "2", "hours", "2小时"),
        ("7 天", "7", "days", "7天"),
        ("4 工作时", "4", "workhours", "4个工作时"),
        ("0.5 workhours", "0.5", "workhours", "0.5个工作时"),
        ("0 小时", "0", "hours", "0小时"),
        ("1.50 工作小时", "1.5", "workhours", "1.5个工作时"),
    ],
)
def test_duration_parse_and_str(text: str, amount: str, unit: str, shown: str) -> None:
    d = Duration.parse(text)
    assert d == Duration(Decimal(amount), unit)
    assert str(d) == shown
    assert Duration.parse(str(d)) == d


@pytest.mark.parametrize("text", ["-3 天", "3", "工作日", "3 周", "three days", ""])
def test_duration_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        Duration.parse(text)


def test_duration_rejects_negative_and_normalises() -> None:
    with pytest.raises(ValueError, match="负数"):
        Duration(Decimal("-1"), "days")
    with pytest.raises(ValueError):
        Duration(Decimal("NaN"), "days")
    d = Duration(2, "工作日")  # type: ignore[arg-type]
    assert d.amount == Decimal(2) and isinstance(d.amount, Decimal) and d.unit == "workdays"


# -- hours and days -------------------------------------------------------------------------------------


def test_hours_and_days_are_plain_time() -> None:
    assert add("2026-02-13 16:00", "2 小时") == at("2026-02-13 18:00")
    assert add("2026-02-14 23:30", "1.5 小时") == at("2026-02-15 01:00")
    assert add("2026-02-13 16:00", "7 天") == at("2026-02-20 16:00")  # holidays do not matter
    assert add("2025-09-30 09:15", "1 自然日") == at("2025-10-01 09:15")
    assert add("2025-09-30 09:15", "0.5 天") == at("2025-09-30 21:15")


def test_result_is_local_for_utc_input() -> None:
    due = CLOCK.add(datetime(2026, 2, 13, 8, 0, tzinfo=ZoneInfo("UTC")), Duration.parse("1 工作日"))
    assert due == at("2026-02-14 23:59:59") and due.tzinfo == SH


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValueError, match="时区"):
        CLOCK.add(datetime(2026, 2, 13, 8, 0), Duration.parse("1 工作日"))


# -- workdays -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        ("2026-02-10 10:00", "0 工作日", "2026-02-10 23:59:59"),  # end of a working start day
        ("2026-02-15 10:00", "0 工作日", "2026-02-24 23:59:59"),  # start in the holiday
        ("2026-02-10 10:00", "1 工作日", "2026-02-11 23:59:59"),
        ("2026-02-13 16:00", "1 工作日", "2026-02-14 23:59:59"),  # lands on the 调休 Saturday
        ("2026-02-13 16:00", "2 工作日", "2026-02-24 23:59:59"),  # skips 春节
        ("2026-02-12 09:00", "5 工作日", "2026-02-26 23:59:59"),
        ("2026-02-23 09:00", "5 工作日", "2026-02-28 23:59:59"),  # lands on the 调休 Saturday
        ("2026-02-24 09:00", "5 工作日", "2026-03-02 23:59:59"),  # counts 调休 Saturday 02-28
        ("2026-02-18 12:00", "1 工作日", "2026-02-24 23:59:59"),  # counting starts after the holiday
        ("2025-09-26 17:00", "1 工作日", "2025-09-28 23:59:59"),  # lands on the 调休 Sunday
        ("2025-09-30 10:00", "1 工作日", "2025-10-09 23:59:59"),  # skips 国庆
        ("2025-09-29 10:00", "3 工作日", "2025-10-10 23:59:59"),
        ("2025-10-09 10:00", "2 工作日", "2025-10-11 23:59:59"),  # lands on the 调休 Saturday
        ("2025-10-09 10:00", "3 工作日", "2025-10-13 23:59:59"),  # skips over it, counting it
        ("2025-10-04 10:00", "0 工作日", "2025-10-09 23:59:59"),
    ],
)
def test_workdays(start: str, duration: str, due: str) -> None:
    assert add(start, duration) == at(due)


def test_fractional_workdays_rejected() -> None:
    with pytest.raises(ValueError, match="整数"):
        add("2026-02-10 10:00", "1.5 工作日")


def test_unknown_year_reached_by_deadline() -> None:
    with pytest.raises(CalendarYearUnknown) as info:
        add("2026-12-28 10:00", "10 工作日")
    assert info.value.code == "calendar_year_unknown"
    fallback = Clock(WorkCalendar(unknown_year="weekends"))
    due = fallback.add(at("2026-12-28 10:00"), Duration.parse("10 工作日"))
    assert due == at("2027-01-11 23:59:59")


# -- workhours ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        ("2026-02-10 09:00", "2 工作时", "2026-02-10 11:00"),
        ("2026-02-10 11:00", "2 工作时", "2026-02-10 15:00"),  # across lunch
        ("2026-02-10 11:00", "1 工作时", "2026-02-10 12:00"),  # ends right at lunch
        ("2026-02-10 12:30", "0.5 工作时", "2026-02-10 14:30"),  # starts at the next opening
        ("2026-02-10 17:00", "1 工作时", "2026-02-11 09:00"),  # across the evening
        ("2026-02-10 20:00", "1 工作时", "2026-02-11 09:30"),
        ("2026-02-10 06:00", "0.25 工作时", "2026-02-10 08:45"),
        ("2026-03-06 17:00", "1 工作时", "2026-03-09 09:00"),  # across a weekend (Fri -> Mon)
        ("2026-03-06 16:00", "8.5 工作时", "2026-03-09 17:30"),  # 1.5 on Fri + all 7 on Mon
        ("2026-02-13 17:00", "1 工作时", "2026-02-14 09:00"),  # next is the 调休 Saturday
        ("2026-02-14 17:00", "1 工作时", "2026-02-24 09:00"),  # across 春节
        ("2025-09-30 16:30", "2 工作时", "2025-10-09 09:30"),  # across 国庆
        ("2025-09-26 17:00", "1 工作时", "2025-09-28 09:00"),  # 调休 Sunday counts
        ("2026-02-10 10:00", "0 工作时", "2026-02-10 10:00"),
        ("2026-02-10 12:00", "0 工作时", "2026-02-10 12:00"),  # closing time counts as inside
        ("2026-02-10 12:01", "0 工作时", "2026-02-10 14:00"),
        ("2026-02-15 10:00", "0 工作时", "2026-02-24 08:30"),
    ],
)
def test_workhours(start: str, duration: str, due: str) -> None:
    assert add(start, duration) == at(due)


def test_workhours_with_custom_business_hours() -> None:
    clock = Clock(CAL, [(time(9, 0), time(17, 0))])
    assert clock.add(at("2026-02-10 16:00"), Duration.parse("2 工作时")) == at("2026-02-11 10:00")


@pytest.mark.parametrize(
    "hours",
    [
        [(time(12, 0), time(8, 30))],
        [(time(14, 0), time(17, 30)), (time(8, 30), time(12, 0))],
        [(time(8, 0), time(12, 0)), (time(11, 0), time(17, 0))],
        [],
    ],
)
def test_bad_business_hours(hours: list[tuple[time, time]]) -> None:
    with pytest.raises(ValueError):
        Clock(CAL, hours)


# -- remaining, overdue and texts -----------------------------------------------------------------------


def test_remaining_examples() -> None:
    due = at("2026-02-24 23:59:59")
    assert CLOCK.remaining(at("2026-02-13 16:00"), due, "workdays") == Duration(Decimal(2), "workdays")
    assert CLOCK.remaining(at("2026-02-24 08:00"), due, "工作日") == Duration(Decimal(0), "workdays")
    assert CLOCK.remaining(due + timedelta(seconds=1), due, "workdays").amount == 0
    wh = CLOCK.remaining(at("2026-02-10 11:00"), at("2026-02-10 15:15"), "workhours")
    assert wh == Duration(Decimal("2.25"), "workhours")
    third = CLOCK.remaining(at("2026-02-10 11:00"), at("2026-02-10 11:20"), "workhours")
    assert third.amount == Decimal("0.333333333333")  # 1e-12 h: exact to the microsecond on the way back
    assert CLOCK.add(at("2026-02-10 11:00"), third) == at("2026-02-10 11:20")
    assert CLOCK.remaining(at("2026-02-10 11:00"), at("2026-02-11 17:00"), "hours").amount == Decimal(30)
    assert CLOCK.remaining(at("2026-02-10 11:00"), at("2026-02-11 23:00"), "days").amount == Decimal("1.5")
    assert CLOCK.remaining(at("2026-02-11 23:00"), at("2026-02-10 11:00"), "days").amount == 0


def test_stop_and_resume_later_shifts_deadline() -> None:
    start = at("2026-02-10 09:00")
    due = CLOCK.add(start, Duration.parse("10 工作时"))
    assert due == at("2026-02-11 12:00")
    left = CLOCK.remaining(at("2026-02-10 16:00"), due, "workhours")  # stopped after 3 + 2 h
    assert left == Duration(Decimal("5"), "workhours")
    # Resumed on the Friday before 春节: 1 h that day, the other 4 h on the 调休 Saturday.
    assert CLOCK.add(at("2026-02-13 16:30"), left) == at("2026-02-14 14:30")


WORK_START = datetime(2025, 1, 1, tzinfo=SH)
WORK_END = datetime(2026, 10, 31, tzinfo=SH)
starts = st.datetimes(
    min_value=WORK_START.replace(tzinfo=None), max_value=WORK_END.replace(tzinfo=None), timezones=st.just(SH)
)
durations = st.one_of(
    st.builds(Duration, st.integers(0, 40).map(Decimal), st.just("workdays")),
    st.builds(Duration, st.decimals(0, 120, places=2), st.just("workhours")),
    st.builds(Duration, st.decimals(0, 500, places=3), st.just("hours")),
    st.builds(Duration, st.decimals(0, 60, places=3), st.just("days")),
)


@settings(max_examples=300, deadline=None)
@given(start=starts, duration=durations, fraction=st.floats(0, 1))
def test_remaining_round_trip(start: datetime, duration: Duration, fraction: float) -> None:
    """Stopping at any moment between start and deadline and resuming at once keeps the deadline."""
    due = CLOCK.add(start, duration)
    assert due >= start
    now = start + timedelta(microseconds=int((due - start) / timedelta(microseconds=1) * fraction))
    left = CLOCK.remaining(now, due, duration.unit)
    assert left.amount >= 0
    assert CLOCK.add(now, left) == due


@settings(max_examples=100, deadline=None)
@given(start=starts, amount=st.decimals(Decimal("0.01"), 60, places=2))
def test_workhours_are_business_time(start: datetime, amount: Decimal) -> None:
    due = CLOCK.add(start, Duration(amount, "workhours"))
    assert CLOCK.business_time(start, due) == timedelta(hours=float(amount))
    assert CAL.is_workday(due.date())
    assert any(opens < due.time() <= closes for opens, closes in CLOCK.business_hours)


@pytest.mark.parametrize(
    ("due", "duration", "moment"),
    [
        ("2026-02-24 23:59:59", "1 工作日", "2026-02-14 08:30"),  # back over 春节 to the 调休 Saturday
        ("2026-02-24 23:59:59", "2 工作日", "2026-02-13 08:30"),
        ("2026-03-02 23:59:59", "1 工作日", "2026-02-28 08:30"),
        ("2025-10-09 23:59:59", "1 工作日", "2025-09-30 08:30"),  # back over 国庆
        ("2025-10-09 23:59:59", "3 工作日", "2025-09-28 08:30"),  # 调休 Sunday
        ("2026-02-24 23:59:59", "0 工作日", "2026-02-24 23:59:59"),
        ("2026-02-10 15:00", "2 工作时", "2026-02-10 11:00"),  # back across lunch
        ("2026-02-10 10:30", "2 工作时", "2026-02-10 08:30"),  # stops at the opening, not the evening before
        ("2026-02-10 10:30", "3 工作时", "2026-02-09 16:30"),
        ("2026-03-09 09:00", "1 工作时", "2026-03-06 17:00"),  # back across a weekend
        ("2026-02-24 09:00", "1 工作时", "2026-02-14 17:00"),  # back across 春节
        ("2026-02-10 13:00", "0.5 工作时", "2026-02-10 11:30"),
        ("2026-02-10 13:00", "0 工作时", "2026-02-10 13:00"),
        ("2026-02-10 13:00", "2 小时", "2026-02-10 11:00"),
        ("2026-02-10 13:00", "1.5 天", "2026-02-09 01:00"),
    ],
)
def test_subtract(due: str, duration: str, moment: str) -> None:
    assert CLOCK.subtract(at(due), Duration.parse(duration)) == at(moment)


@settings(max_examples=200, deadline=None)
@given(start=starts, duration=durations)
def test_subtract_leaves_the_duration(start: datetime, duration: Duration) -> None:
    due = CLOCK.add(start, duration)
    before = CLOCK.subtract(due, duration)
    assert before <= due
    if duration.unit == "workhours":
        assert CLOCK.business_time(before, due) == timedelta(hours=float(duration.amount))
    elif duration.amount:
        assert CLOCK.remaining(before, due, duration.unit) == duration
        assert CLOCK.add(before, duration) == due


def test_overdue_by() -> None:
    due = at("2026-02-10 12:00")
    assert CLOCK.overdue_by(at("2026-02-11 16:30"), due) == timedelta(days=1, hours=4, minutes=30)
    assert CLOCK.overdue_by(at("2026-02-10 11:00"), due) == timedelta(0)


@pytest.mark.parametrize(
    ("now", "due", "unit", "text"),
    [
        ("2026-02-13 16:00", "2026-02-24 23:59:59", "workdays", "剩余2个工作日"),
        ("2026-02-24 16:00", "2026-02-24 23:59:59", "workdays", "今日到期"),
        ("2026-02-10 11:00", "2026-02-10 14:15", "hours", "剩余3小时15分"),
        ("2026-02-10 11:00", "2026-02-11 14:15", "hours", "剩余27小时15分"),
        ("2026-02-10 11:00", "2026-02-10 11:40", "hours", "剩余40分"),
        ("2026-02-10 11:00", "2026-02-10 11:00:30", "hours", "剩余不足1分钟"),
        ("2026-02-10 11:00", "2026-02-12 14:00", "days", "剩余2天3小时"),
        ("2026-02-10 11:00", "2026-02-10 15:15", "workhours", "剩余工作时间2小时15分"),
        ("2026-02-10 11:00", "2026-02-10 11:00", "workhours", "已到期"),
        ("2026-02-11 16:00", "2026-02-10 12:00", "workdays", "已超期1天4小时"),
        ("2026-02-10 14:00", "2026-02-10 12:00", "hours", "已超期2小时"),
        ("2026-02-10 12:05", "2026-02-10 12:00", "hours", "已超期5分"),
        ("2026-02-12 12:00", "2026-02-10 12:00", "days", "已超期2天"),
    ],
)
def test_describe_left(now: str, due: str, unit: str, text: str) -> None:
    assert CLOCK.describe_left(at(now), at(due), unit) == text


@pytest.mark.parametrize(
    ("now", "due", "unit", "text"),
    [
        ("2026-02-13 16:00", "2026-02-24 23:59:59", "workdays", "2 working days left"),
        ("2026-02-23 16:00", "2026-02-24 23:59:59", "workdays", "1 working day left"),
        ("2026-02-24 16:00", "2026-02-24 23:59:59", "workdays", "due today"),
        ("2026-02-10 11:00", "2026-02-10 14:15", "hours", "3 h 15 min left"),
        ("2026-02-10 11:00", "2026-02-10 11:00:30", "hours", "less than a minute left"),
        ("2026-02-10 11:00", "2026-02-12 14:00", "days", "2 d 3 h left"),
        ("2026-02-10 11:00", "2026-02-10 15:15", "workhours", "2 h 15 min of working time left"),
        ("2026-02-11 16:00", "2026-02-10 12:00", "workdays", "overdue by 1 d 4 h"),
    ],
)
def test_describe_left_in_english(now: str, due: str, unit: str, text: str) -> None:
    with translation.override("en"):
        assert CLOCK.describe_left(at(now), at(due), unit) == text


# -- the shared clock -----------------------------------------------------------------------------------


@pytest.fixture
def fresh_clock():
    reset_clock()
    yield
    reset_clock()


def test_get_clock_defaults_without_settings(fresh_clock: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock_module, "settings", SimpleNamespace(configured=False))
    clock = get_clock()
    assert clock is get_clock()
    assert clock.business_hours == ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))
    assert clock.calendar.unknown_year == "error" and clock.calendar.years == {}
    assert str(clock.tz) == "Asia/Shanghai"


def test_get_clock_reads_settings(fresh_clock: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "2027.yaml").write_text("year: 2027\nholidays:\n  - {date: 2027-01-01}\n", encoding="utf-8")
    fake = SimpleNamespace(
        configured=True,
        TAIZHANG_CALENDAR_DIR=tmp_path,
        TAIZHANG_CALENDAR_UNKNOWN_YEAR="weekends",
        TAIZHANG_BUSINESS_HOURS=["09:00-12:00", " 13:00 - 18:00 "],
    )
    monkeypatch.setattr(clock_module, "settings", fake)
    clock = get_clock()
    assert clock.business_hours == ((time(9), time(12)), (time(13), time(18)))
    assert clock.calendar.known(2027) and not clock.calendar.is_workday(datetime(2027, 1, 1).date())
    assert clock.calendar.unknown_year == "weekends"
    fake.TAIZHANG_BUSINESS_HOURS = ["08:00-17:00"]
    assert get_clock() is clock  # cached until reset
    reset_clock()
    assert get_clock().business_hours == ((time(8), time(17)),)


def test_get_clock_rejects_bad_business_hours(fresh_clock: None, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = SimpleNamespace(configured=True, TAIZHANG_BUSINESS_HOURS=["8:30 to 12:00"])
    monkeypatch.setattr(clock_module, "settings", fake)
    with pytest.raises(ValueError, match="HH:MM-HH:MM"):
        get_clock()
