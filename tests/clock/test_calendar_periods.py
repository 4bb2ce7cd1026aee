"""Calendar periods (月, 季度, 半年, 年) and minutes: month-end rules (民法典第二百零二条), reminders before
such a deadline, what is left of one when a clock stops, and whole numbers only."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taizhang.clock.calendar import WorkCalendar
from taizhang.clock.clock import Clock, Duration, add_months

SH = ZoneInfo("Asia/Shanghai")
CLOCK = Clock(WorkCalendar())


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        ("2026-01-31 10:00", "1 月", "2026-02-28 10:00"),  # no 2月31日: the end of February
        ("2028-01-31 10:00", "1个月", "2028-02-29 10:00"),  # a leap year
        ("2026-01-30 10:00", "1 月", "2026-02-28 10:00"),
        ("2026-02-28 10:00", "1 月", "2026-03-28 10:00"),  # the same day, not the month's end
        ("2026-03-31 23:59:59", "1 月", "2026-04-30 23:59:59"),
        ("2025-11-30 09:00", "1 季度", "2026-02-28 09:00"),
        ("2026-08-31 09:00", "1 半年", "2027-02-28 09:00"),
        ("2026-05-31 09:00", "2 季度", "2026-11-30 09:00"),
        ("2028-02-29 09:00", "1 年", "2029-02-28 09:00"),
        ("2026-12-15 09:00", "3 月", "2027-03-15 09:00"),
        ("2026-03-10 10:00", "30 分钟", "2026-03-10 10:30"),
        ("2026-03-10 23:50", "15 分钟", "2026-03-11 00:05"),  # minutes are real time, day or night
    ],
)
def test_calendar_periods_and_minutes(start, duration, due):
    assert CLOCK.add(at(start), Duration.parse(duration)) == at(due)


def test_a_month_does_not_care_about_holidays():
    # 国庆 2026 (10月1日–7日) is off; a month from 09-08 is still 10-08.
    assert CLOCK.add(at("2026-09-08 10:00"), Duration.parse("1 月")) == at("2026-10-08 10:00")


def test_labels_and_aliases():
    assert [str(Duration.parse(t)) for t in ("1 月", "2个季度", "1 半年", "1 年", "90 分钟")] == [
        "1个月",
        "2个季度",
        "1个半年",
        "1年",
        "90分钟",
    ]


def test_reminders_before_a_monthly_deadline():
    assert CLOCK.subtract(at("2026-03-31 10:00"), Duration.parse("1 月")) == at("2026-02-28 10:00")
    assert CLOCK.subtract(at("2026-03-10 10:00"), Duration.parse("45 分钟")) == at("2026-03-10 09:15")


def test_what_is_left_of_a_month_is_counted_in_days():
    left = CLOCK.remaining(at("2026-01-31 10:00"), at("2026-02-28 10:00"), "月")
    assert str(left) == "28天"
    assert CLOCK.add(at("2026-03-02 08:00"), left) == at("2026-03-30 08:00")
    assert CLOCK.describe_left(at("2026-02-27 10:00"), at("2026-02-28 16:00"), "季度") == "剩余1天6小时"


@pytest.mark.parametrize("text", ["1.5 月", "0.5 季度", "1.5 半年"])
def test_periods_are_whole(text):
    with pytest.raises(ValueError, match="整数"):
        CLOCK.add(at("2026-01-31 10:00"), Duration.parse(text))


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31)),
    st.integers(min_value=-30, max_value=30),
)
def test_adding_months_lands_in_the_right_month_on_the_same_day_or_the_months_end(moment, months):
    out = add_months(moment, months)
    assert (out.year * 12 + out.month) - (moment.year * 12 + moment.month) == months
    assert out.time() == moment.time()
    if out.day != moment.day:  # only when the month is too short: then it is its last day
        assert out.day < moment.day and (out + timedelta(days=1)).month != out.month
