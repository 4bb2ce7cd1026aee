"""What a monthly report (月度报告) covers: a calendar month, whose cases and which division.

`?month=YYYY-MM` (default: the month before the current one) and `?division=CODE` (default: the
division all of the person's posts lie in). Months are calendar months in the platform's time zone
(Beijing time, `TIME_ZONE`): from 00:00 on the 1st to 00:00 on the 1st of the next month. The
current month may be asked for (counted up to now); a later one may not.

Who may read it is the dashboard's rule (`check_dashboard`: leaders, dispatchers, intake staff,
discipline inspectors, administrators). The scheduler's report (`taizhang report monthly`) is read
as the system (`system_viewer`): every case, or every case of a division's subtree.

Every number is counted on a queryset built by the case list's own filter (`apply_filter`) and its
link carries the same filter, so the list behind a number holds exactly the cases counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from taizhang.cases.models import Case
from taizhang.cases.queries import CaseFilter, apply_filter, day_start
from taizhang.errors import ActionError
from taizhang.org.models import Division, User
from taizhang.org.roles import Role
from taizhang.org.scopes import Grant

from ..dashboard.scope import check_dashboard, home_division

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
EARLIEST_YEAR = 2000  # no ledger goes back further; a typo such as 0202-10 is caught


@dataclass(frozen=True)
class Month:
    """A calendar month, by its first day."""

    first: date

    @property
    def code(self) -> str:
        return f"{self.first:%Y-%m}"

    @property
    def label(self) -> str:
        return f"{self.first.year}年{self.first.month}月"

    @property
    def next_first(self) -> date:
        return (self.first + timedelta(days=32)).replace(day=1)

    @property
    def last(self) -> date:
        return self.next_first - timedelta(days=1)

    @property
    def previous(self) -> Month:
        return Month((self.first - timedelta(days=1)).replace(day=1))

    @property
    def start(self) -> datetime:
        return day_start(self.first)

    @property
    def end(self) -> datetime:
        """00:00 on the next month's first day (excluded)."""
        return day_start(self.next_first)


def month_error(message: str) -> ActionError:
    return ActionError("invalid_month", message, 400)


def parse_month(text: str | None, today: date) -> Month:
    """The month named `YYYY-MM`, or the month before `today`'s when none; 400 when malformed or later
    than the current month."""
    current = Month(today.replace(day=1))
    if not text:
        return current.previous
    match = MONTH.match(text.strip())
    if match is None:
        raise month_error(f"月份格式应为 YYYY-MM（如 {current.previous.code}）：{text}")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise month_error(f"月份应在 01 到 12 之间：{text}")
    if year < EARLIEST_YEAR:
        raise month_error(f"月份不能早于 {EARLIEST_YEAR} 年：{text}")
    asked = Month(date(year, month, 1))
    if asked.first > current.first:
        raise month_error(f"{asked.label}尚未开始，最晚可选本月（{current.code}）")
    return asked


@dataclass
class MonthScope:
    """The person, the month, the division and the moment the report is made."""

    user: object
    now: datetime
    month: Month
    home: Division | None
    division: Division | None

    @property
    def start(self) -> date:
        """The first day counted (the dashboard's 考核 tables read `start` and `today`)."""
        return self.month.first

    @property
    def today(self) -> date:
        """The last day counted: the month's last day, or today in the current month."""
        return min(self.month.last, timezone.localtime(self.now).date())

    @property
    def partial(self) -> bool:
        """The month is not over yet."""
        return self.now < self.month.end

    def filter_params(self, **extra) -> dict[str, str]:
        """The case list's parameters for the division plus `extra` (empty values are left out)."""
        params: dict[str, str] = {}
        if self.division is not None:
            params["division"] = self.division.code
        params.update({k: str(v) for k, v in extra.items() if v not in ("", None)})
        return params

    def link(self, **extra) -> str:
        """The case list holding exactly the cases counted with `cases(**extra)`."""
        return f"{reverse('cases:list')}?{urlencode(self.filter_params(**extra))}"

    def cases(self, **extra):
        """The person's cases in the division, narrowed like the list narrows them for `link(**extra)`."""
        params = self.filter_params(**extra)
        for key in ("overdue", "escalated"):
            if key in params:
                params[key] = params[key] == "1"
        return apply_filter(Case.objects.for_user(self.user, "view"), CaseFilter(**params), self.now)

    def received(self, month: Month | None = None) -> dict[str, str]:
        """The list filter of the cases received (created) in the month."""
        m = month or self.month
        return {"created_from": m.first.isoformat(), "created_to": m.last.isoformat()}

    def closed(self, month: Month | None = None) -> dict[str, str]:
        """The list filter of the cases closed in the month."""
        m = month or self.month
        return {"closed_from": m.first.isoformat(), "closed_to": m.last.isoformat()}

    def url(
        self, view: str = "monthly:page", month: Month | None = None, division: Division | None = None
    ) -> str:
        """This report (or its PDF / xlsx, or another month's or division's) as a URL."""
        params = {"month": (month or self.month).code}
        target = division if division is not None else self.division
        if target is not None and target != self.home:
            params["division"] = target.code
        return f"{reverse(view)}?{urlencode(params)}"


def find_division(code: str, home: Division | None) -> Division:
    """The division named by `code` inside `home`; 400 when unknown or outside (one message for both)."""
    division = Division.objects.filter(code=code).first()
    if division is None or (home is not None and not home.contains(division)):
        raise ActionError("unknown_division", f"找不到编码为 {code} 的区划，或该区划不在您的范围内", 400)
    return division


def parse_scope(user, month: str | None, division: str | None, now: datetime) -> MonthScope:
    """The scope of `?month=&division=` for a person who may read the report (403 otherwise)."""
    check_dashboard(user)
    found = parse_month(month, timezone.localtime(now).date())
    home = home_division(user)
    target = find_division(division.strip(), home) if division and division.strip() else home
    return MonthScope(user=user, now=now, month=found, home=home, division=target)


def system_viewer(division: Division | None = None) -> User:
    """The system reading the report: everything, or (`division`) what a leader of that division sees.

    Never saved; its roles are set here rather than read from memberships."""
    viewer = User(pk=0, username="system", display_name="系统", is_superuser=division is None)
    viewer._taizhang_grants = [Grant(Role.LEADER, division, None)] if division is not None else []
    return viewer
