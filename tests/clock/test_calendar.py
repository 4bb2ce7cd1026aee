"""Working-day calendar: package data, data files and their validation, unknown years."""

from datetime import date, timedelta
from pathlib import Path

import pytest

from taizhang.clock.calendar import (
    CalendarDataError,
    CalendarYearUnknown,
    ClockError,
    WorkCalendar,
    load_year_file,
)

D = date.fromisoformat

VALID_2027 = """\
year: 2027
source: 测试用数据（非真实安排）
holidays:
  - {date: 2027-01-01, name: 元旦}
  - {from: 2027-02-05, to: 2027-02-11, name: 春节}
workdays:
  - {date: 2027-02-14, name: 春节调休}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar()


# -- package data: 春节 2026 and 国庆 2025 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-02-13", True),  # Friday before the holiday
        ("2026-02-14", True),  # Saturday 调休
        ("2026-02-15", False),
        ("2026-02-17", False),  # 春节 itself, a Tuesday
        ("2026-02-23", False),  # Monday, last day off
        ("2026-02-24", True),
        ("2026-02-28", True),  # Saturday 调休
        ("2026-03-01", False),  # ordinary Sunday
        ("2025-09-27", False),  # ordinary Saturday
        ("2025-09-28", True),  # Sunday 调休
        ("2025-10-01", False),
        ("2025-10-08", False),
        ("2025-10-09", True),
        ("2025-10-11", True),  # Saturday 调休
        ("2025-10-12", False),
    ],
)
def test_package_holidays_and_makeup_days(cal: WorkCalendar, day: str, working: bool) -> None:
    assert cal.is_workday(D(day)) is working


def test_next_workday_skips_holidays_and_lands_on_makeup_saturday(cal: WorkCalendar) -> None:
    assert cal.next_workday(D("2026-02-13")) == D("2026-02-14")  # Friday -> 调休 Saturday
    assert cal.next_workday(D("2026-02-14")) == D("2026-02-24")
    assert cal.next_workday(D("2026-02-27")) == D("2026-02-28")
    assert cal.next_workday(D("2025-09-26")) == D("2025-09-28")  # Friday -> 调休 Sunday
    assert cal.next_workday(D("2025-09-30")) == D("2025-10-09")
    assert cal.next_workday(D("2025-10-10")) == D("2025-10-11")
    assert cal.next_workday(D("2025-10-11")) == D("2025-10-13")


def test_previous_workday_mirrors_next_workday(cal: WorkCalendar) -> None:
    assert cal.previous_workday(D("2026-02-24")) == D("2026-02-14")  # back over 春节 to 调休 Saturday
    assert cal.previous_workday(D("2026-03-02")) == D("2026-02-28")
    assert cal.previous_workday(D("2025-10-09")) == D("2025-09-30")
    assert cal.previous_workday(D("2025-09-29")) == D("2025-09-28")  # 调休 Sunday
    day = D("2025-09-20")
    for _ in range(60):
        assert cal.previous_workday(cal.next_workday(day)) <= day
        day = cal.next_workday(day)
        assert cal.next_workday(cal.previous_workday(day)) == day


def test_workdays_between_is_half_open(cal: WorkCalendar) -> None:
    # (2026-02-13, 2026-02-28]: 02-14, 02-24..02-27, 02-28
    assert cal.workdays_between(D("2026-02-13"), D("2026-02-28")) == 6
    assert cal.workdays_between(D("2026-02-13"), D("2026-02-13")) == 0
    assert cal.workdays_between(D("2026-02-14"), D("2026-02-13")) == 0
    # (2025-09-26, 2025-10-12]: 09-28, 09-29, 09-30, 10-09, 10-10, 10-11
    assert cal.workdays_between(D("2025-09-26"), D("2025-10-12")) == 6


def test_workdays_between_counts_next_workday_steps(cal: WorkCalendar) -> None:
    start = D("2025-09-20")
    day = start
    for n in range(1, 40):
        day = cal.next_workday(day)
        assert cal.workdays_between(start, day) == n


def test_known_years(cal: WorkCalendar) -> None:
    assert cal.known(2025) and cal.known(2026) and cal.known(2004)
    assert not cal.known(2027)
    assert not cal.known(2003)


# -- unknown years ------------------------------------------------------------------------------------


def test_unknown_year_raises_with_code_and_hint(cal: WorkCalendar) -> None:
    with pytest.raises(CalendarYearUnknown) as info:
        cal.is_workday(D("2027-01-04"))
    err = info.value
    assert isinstance(err, ClockError)
    assert err.code == "calendar_year_unknown"
    assert err.year == 2027
    assert "2027.yaml" in err.message and "TAIZHANG_CALENDAR_UNKNOWN_YEAR=weekends" in err.message
    assert str(err) == err.message


def test_unknown_year_reached_by_counting_across_new_year(cal: WorkCalendar) -> None:
    with pytest.raises(CalendarYearUnknown):
        cal.next_workday(D("2026-12-31"))


def test_weekends_fallback_counts_monday_to_friday() -> None:
    cal = WorkCalendar(unknown_year="weekends")
    assert not cal.known(2027)
    assert cal.is_workday(D("2027-01-01"))  # a Friday; real holidays are unknown
    assert not cal.is_workday(D("2027-01-02"))
    assert cal.next_workday(D("2026-12-31")) == D("2027-01-01")
    assert cal.workdays_between(D("2027-01-01"), D("2027-01-11")) == 6
    assert not cal.is_workday(D("2026-10-01"))  # known years still use real data


def test_unknown_year_mode_is_validated() -> None:
    with pytest.raises(ValueError, match="unknown_year"):
        WorkCalendar(unknown_year="ignore")


# -- data files ---------------------------------------------------------------------------------------


def test_year_added_by_file_becomes_known(tmp_path: Path) -> None:
    write(tmp_path, "2027.yaml", VALID_2027)
    write(tmp_path, "README.md", "not a data file")
    cal = WorkCalendar(data_dir=tmp_path)
    assert cal.known(2027)
    assert not cal.is_workday(D("2027-01-01"))
    assert not cal.is_workday(D("2027-02-05"))
    assert not cal.is_workday(D("2027-02-11"))
    assert cal.is_workday(D("2027-02-12"))  # Friday after the range
    assert cal.is_workday(D("2027-02-14"))  # 调休 Sunday
    assert not cal.is_workday(D("2027-02-13"))  # ordinary Saturday
    assert cal.is_workday(D("2027-01-04"))  # ordinary Monday
    assert cal.years[2027].source == "测试用数据（非真实安排）"
    assert cal.years[2027].holidays[D("2027-02-08")] == "春节"


def test_file_overrides_package_for_its_year(tmp_path: Path) -> None:
    write(
        tmp_path,
        "2026.yaml",
        "year: 2026\nholidays:\n  - {date: 2026-03-02, name: 测试假日}\n",
    )
    cal = WorkCalendar(data_dir=tmp_path)
    assert not cal.is_workday(D("2026-03-02"))  # a Monday, off only by the file
    # The package's 春节 data no longer applies to 2026: the file replaces the whole year.
    assert cal.is_workday(D("2026-02-17"))
    assert not cal.is_workday(D("2026-02-14"))
    assert not cal.is_workday(D("2025-10-01"))  # other years still come from the package


def test_empty_lists_and_missing_lists_are_allowed(tmp_path: Path) -> None:
    write(tmp_path, "2028.yaml", "year: 2028\nholidays:\nworkdays: []\n")
    cal = WorkCalendar(data_dir=tmp_path)
    assert cal.known(2028) and cal.is_workday(D("2028-01-03"))


def test_missing_data_dir_holds_no_files(tmp_path: Path) -> None:
    cal = WorkCalendar(data_dir=tmp_path / "absent")
    assert not cal.known(2027)


def error_for(tmp_path: Path, text: str, name: str = "2027.yaml") -> CalendarDataError:
    write(tmp_path, name, text)
    with pytest.raises(CalendarDataError) as info:
        WorkCalendar(data_dir=tmp_path)
    assert info.value.code == "calendar_data_invalid"
    return info.value


def test_bad_date_names_file_line_and_field(tmp_path: Path) -> None:
    text = VALID_2027.replace("to: 2027-02-11", "to: 2027-02-30")
    err = error_for(tmp_path, text)
    assert (err.line, err.field) == (5, "holidays[1].to")
    assert err.message.startswith("2027.yaml:5: holidays[1].to: 日期格式错误")


def test_date_that_is_not_a_date(tmp_path: Path) -> None:
    err = error_for(tmp_path, VALID_2027.replace("date: 2027-01-01", "date: 元旦"))
    assert (err.line, err.field) == (4, "holidays[0].date")
    assert "日期格式错误" in err.message


def test_range_inverted(tmp_path: Path) -> None:
    text = VALID_2027.replace("from: 2027-02-05, to: 2027-02-11", "from: 2027-02-11, to: 2027-02-05")
    err = error_for(tmp_path, text)
    assert err.message.startswith("2027.yaml:5: holidays[1].to: 结束日期 2027-02-05 早于开始日期 2027-02-11")


def test_wrong_year_in_file(tmp_path: Path) -> None:
    err = error_for(tmp_path, VALID_2027.replace("year: 2027", "year: 2028"))
    assert err.message.startswith("2027.yaml:1: year: 年份 “2028” 与文件名 2027.yaml 不一致")


def test_missing_year(tmp_path: Path) -> None:
    err = error_for(tmp_path, "holidays: []\n")
    assert err.field == "year" and "缺少必填字段" in err.message


def test_date_outside_the_year(tmp_path: Path) -> None:
    err = error_for(tmp_path, VALID_2027.replace("date: 2027-02-14", "date: 2026-12-27"))
    assert err.message.startswith("2027.yaml:7: workdays[0].date: 日期 2026-12-27 不在 2027 年内")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    err = error_for(tmp_path, VALID_2027 + "holiday:\n  - {date: 2027-05-01}\n")
    assert err.message.startswith("2027.yaml:8: holiday: 未知的键")


def test_unknown_entry_key(tmp_path: Path) -> None:
    err = error_for(tmp_path, VALID_2027.replace("{date: 2027-01-01, name: 元旦}", "{day: 2027-01-01}"))
    assert err.message.startswith("2027.yaml:4: holidays[0].day: 未知的键")


def test_duplicate_key(tmp_path: Path) -> None:
    err = error_for(tmp_path, VALID_2027 + "year: 2027\n")
    assert err.message.startswith("2027.yaml:8: year: 键重复")


def test_list_field_not_a_list(tmp_path: Path) -> None:
    err = error_for(tmp_path, "year: 2027\nholidays: 2027-01-01\n")
    assert err.message.startswith("2027.yaml:2: holidays: 应为列表")


def test_entry_not_a_mapping(tmp_path: Path) -> None:
    err = error_for(tmp_path, "year: 2027\nholidays:\n  - 2027-01-01\n")
    assert err.message.startswith("2027.yaml:3: holidays[0]: 应为键值映射")


def test_file_not_a_mapping(tmp_path: Path) -> None:
    err = error_for(tmp_path, "- 2027-01-01\n")
    assert err.line == 1 and "应为键值映射" in err.message


def test_empty_file(tmp_path: Path) -> None:
    err = error_for(tmp_path, "")
    assert "文件为空" in err.message


def test_entry_without_date(tmp_path: Path) -> None:
    err = error_for(tmp_path, "year: 2027\nholidays:\n  - {from: 2027-05-01, name: 劳动节}\n")
    assert err.message.startswith("2027.yaml:3: holidays[0]: 需要 date，或同时给出 from 和 to")


def test_entry_with_date_and_range(tmp_path: Path) -> None:
    text = "year: 2027\nholidays:\n  - {date: 2027-05-01, from: 2027-05-01, to: 2027-05-03}\n"
    err = error_for(tmp_path, text)
    assert "date 与 from/to 只能二选一" in err.message


def test_name_must_be_a_single_value(tmp_path: Path) -> None:
    err = error_for(tmp_path, "year: 2027\nholidays:\n  - {date: 2027-05-01, name: [a, b]}\n")
    assert err.message.startswith("2027.yaml:3: holidays[0].name: 应为单个值")


def test_day_both_off_and_working(tmp_path: Path) -> None:
    text = "year: 2027\nholidays:\n  - {date: 2027-02-14}\nworkdays:\n  - {date: 2027-02-14}\n"
    err = error_for(tmp_path, text)
    assert err.message.startswith("2027.yaml:5: workdays: 2027-02-14 同时列为放假日和调休上班日")


def test_makeup_workday_must_be_on_a_weekend(tmp_path: Path) -> None:
    err = error_for(tmp_path, "year: 2027\nworkdays:\n  - {date: 2027-02-15}\n")  # a Monday
    assert "不是周六或周日" in err.message


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    err = error_for(tmp_path, "year: 2027\nholidays:\n  - {date: 2027-01-01\n")
    assert err.line is not None and "YAML 语法错误" in err.message


def test_misnamed_file_is_rejected(tmp_path: Path) -> None:
    err = error_for(tmp_path, VALID_2027, name="holidays-2027.yaml")
    assert "YYYY.yaml" in err.message


def test_load_year_file_directly(tmp_path: Path) -> None:
    data = load_year_file(write(tmp_path, "2027.yaml", VALID_2027))
    assert data.year == 2027
    assert sorted(data.workdays) == [D("2027-02-14")]
    assert len(data.holidays) == 1 + 7
    assert max(data.holidays) - min(data.holidays) == timedelta(days=41)
