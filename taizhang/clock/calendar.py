"""Working-day calendar: official holidays and 调休 make-up working days.

The ``chinese_calendar`` package knows the published years; a data file ``YYYY.yaml`` in the calendar
directory adds a year the package does not know yet, or replaces the package's data for that year.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

UNKNOWN_YEAR_MODES = ("error", "weekends")

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEAR_FILE_RE = re.compile(r"(\d{4})\.yaml")
_TOP_KEYS = ("year", "source", "holidays", "workdays")
_ENTRY_KEYS = ("date", "from", "to", "name")


class ClockError(Exception):
    """Error of the time service, with a stable machine ``code`` and a Chinese ``message`` for people."""

    code: str = "clock_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class CalendarYearUnknown(ClockError):
    """A deadline needs a year whose holidays are neither in the package nor in a data file."""

    code = "calendar_year_unknown"

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"{year} 年的法定节假日和调休安排尚未载入：请在日历数据目录添加 {year}.yaml"
            f"（或设置 TAIZHANG_CALENDAR_UNKNOWN_YEAR=weekends 暂按周一至周五推算）"
        )


class CalendarDataError(ClockError):
    """A calendar data file is malformed; the message names the file, the line and the field."""

    code = "calendar_data_invalid"

    def __init__(self, path: Path, line: int | None, field: str | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.problem = problem
        where = path.name if line is None else f"{path.name}:{line}"
        super().__init__(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")


@dataclass
class YearData:
    """Days off and make-up working days of one year, as loaded from a data file."""

    year: int
    source: str | None
    path: Path
    holidays: dict[date, str] = field(default_factory=dict)
    workdays: dict[date, str] = field(default_factory=dict)


def _package_years() -> range:
    # The package raises for any year outside the span of its own holiday table.
    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


class WorkCalendar:
    """Answers whether a day is a working day in mainland China.

    ``unknown_year`` decides what happens for a year nobody knows: ``"error"`` raises
    :class:`CalendarYearUnknown`; ``"weekends"`` treats Monday to Friday as working days.
    """

    def __init__(self, data_dir: Path | None = None, unknown_year: str = "error") -> None:
        if unknown_year not in UNKNOWN_YEAR_MODES:
            raise ValueError(f"unknown_year must be one of {UNKNOWN_YEAR_MODES}, not {unknown_year!r}")
        self.unknown_year = unknown_year
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self._package_years = _package_years()
        # Loaded eagerly so that a broken file stops start-up instead of a deadline computation later.
        self.years: dict[int, YearData] = load_data_dir(self.data_dir) if self.data_dir else {}

    def known(self, year: int) -> bool:
        """Whether the holidays of ``year`` are known (data file or package)."""
        return year in self.years or year in self._package_years

    def is_workday(self, d: date) -> bool:
        """Whether ``d`` is a working day."""
        data = self.years.get(d.year)
        if data is not None:
            if d in data.holidays:
                return False
            if d in data.workdays:
                return True
            return d.weekday() < 5
        if d.year in self._package_years:
            return chinese_calendar.is_workday(d)
        if self.unknown_year == "weekends":
            return d.weekday() < 5
        raise CalendarYearUnknown(d.year)

    def next_workday(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        d += timedelta(days=1)
        while not self.is_workday(d):
            d += timedelta(days=1)
        return d

    def previous_workday(self, d: date) -> date:
        """The last working day strictly before ``d``."""
        d -= timedelta(days=1)
        while not self.is_workday(d):
            d -= timedelta(days=1)
        return d

    def workdays_between(self, a: date, b: date) -> int:
        """Number of working days in the half-open span (a, b]; 0 when b <= a."""
        return sum(1 for d in _days(a + timedelta(days=1), b) if self.is_workday(d))


def _days(first: date, last: date) -> Iterator[date]:
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


# ---------------------------------------------------------------------------------------------------------
# Data files


def load_data_dir(data_dir: Path) -> dict[int, YearData]:
    """Load and validate every ``YYYY.yaml`` in ``data_dir`` (a missing directory holds no files)."""
    if not data_dir.exists():
        return {}
    if not data_dir.is_dir():
        raise CalendarDataError(data_dir, None, None, "日历数据目录不是一个目录")
    years: dict[int, YearData] = {}
    for path in sorted(data_dir.iterdir()):
        if path.suffix not in (".yaml", ".yml"):
            continue  # README and the like
        if not _YEAR_FILE_RE.fullmatch(path.name):
            # A misnamed file would otherwise be silently ignored and its year stay unknown.
            raise CalendarDataError(path, None, None, "日历数据文件应命名为 YYYY.yaml，例如 2027.yaml")
        data = load_year_file(path)
        years[data.year] = data
    return years


def load_year_file(path: Path) -> YearData:
    """Parse and validate one calendar data file ``YYYY.yaml``."""
    path = Path(path)
    match = _YEAR_FILE_RE.fullmatch(path.name)
    if not match:
        raise CalendarDataError(path, None, None, "日历数据文件应命名为 YYYY.yaml，例如 2027.yaml")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarDataError(path, None, None, f"无法读取文件：{exc}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise CalendarDataError(path, line, None, f"YAML 语法错误：{problem}") from exc
    return _Parser(path, int(match.group(1))).parse(root)


def _line(node: Node) -> int:
    return node.start_mark.line + 1


class _Parser:
    """Walks the composed YAML nodes so that every error can point to its line."""

    def __init__(self, path: Path, file_year: int) -> None:
        self.path = path
        self.file_year = file_year

    def fail(self, node: Node | None, field: str | None, problem: str) -> CalendarDataError:
        return CalendarDataError(self.path, _line(node) if node is not None else None, field, problem)

    def mapping(self, node: Node, field: str | None, allowed: tuple[str, ...]) -> dict[str, Node]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, field, "应为键值映射（key: value）")
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            key_field = f"{field}.{key}" if field else str(key)
            if key not in allowed:
                raise self.fail(key_node, key_field, f"未知的键，可用的键：{'、'.join(allowed)}")
            if key in out:
                raise self.fail(key_node, key_field, "键重复")
            out[key] = value_node
        return out

    def scalar(self, node: Node, field: str) -> str:
        if not isinstance(node, ScalarNode):
            raise self.fail(node, field, "应为单个值")
        return node.value

    def parse_date(self, node: Node, field: str) -> date:
        text = self.scalar(node, field).strip()
        try:
            if not _DATE_RE.fullmatch(text):
                raise ValueError(text)
            value = date.fromisoformat(text)
        except ValueError:
            raise self.fail(node, field, f"日期格式错误：“{text}”，应为 YYYY-MM-DD 的有效日期") from None
        if value.year != self.file_year:
            raise self.fail(node, field, f"日期 {value} 不在 {self.file_year} 年内")
        return value

    def parse(self, root: Node | None) -> YearData:
        if root is None:
            raise self.fail(None, None, "文件为空，至少需要 year 字段")
        top = self.mapping(root, None, _TOP_KEYS)
        if "year" not in top:
            raise self.fail(root, "year", "缺少必填字段")
        year_text = self.scalar(top["year"], "year").strip()
        if not year_text.isdigit() or int(year_text) != self.file_year:
            raise self.fail(top["year"], "year", f"年份 “{year_text}” 与文件名 {self.path.name} 不一致")
        source = self.scalar(top["source"], "source") if "source" in top else None
        data = YearData(year=self.file_year, source=source, path=self.path)
        for list_name, target in (("holidays", data.holidays), ("workdays", data.workdays)):
            if list_name in top:
                self.entries(top[list_name], list_name, target)
        for day in data.workdays:
            if day in data.holidays:
                raise self.fail(top["workdays"], "workdays", f"{day} 同时列为放假日和调休上班日")
            if day.weekday() < 5:
                # Mon–Fri already are working days: listing one almost always means a typo in the date.
                raise self.fail(top["workdays"], "workdays", f"{day} 不是周六或周日，调休上班日应在周末")
        return data

    def entries(self, node: Node, list_name: str, target: dict[date, str]) -> None:
        if isinstance(node, ScalarNode) and node.tag.endswith(":null"):
            return  # "holidays:" with nothing after it
        if not isinstance(node, SequenceNode):
            raise self.fail(node, list_name, "应为列表（每项以 - 开头）")
        for i, item in enumerate(node.value):
            field = f"{list_name}[{i}]"
            entry = self.mapping(item, field, _ENTRY_KEYS)
            name = self.scalar(entry["name"], f"{field}.name") if "name" in entry else ""
            if "date" in entry:
                if "from" in entry or "to" in entry:
                    raise self.fail(item, field, "date 与 from/to 只能二选一")
                first = last = self.parse_date(entry["date"], f"{field}.date")
            elif "from" in entry and "to" in entry:
                first = self.parse_date(entry["from"], f"{field}.from")
                last = self.parse_date(entry["to"], f"{field}.to")
                if last < first:
                    raise self.fail(entry["to"], f"{field}.to", f"结束日期 {last} 早于开始日期 {first}")
            else:
                raise self.fail(item, field, "需要 date，或同时给出 from 和 to")
            for d in _days(first, last):
                target[d] = name
