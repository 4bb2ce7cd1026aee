"""What a dashboard shows: whose cases, which division (drill-down) and which period, all in the URL.

Every number on the dashboard is counted on a queryset built by the case list's own filter
(`apply_filter` with a `CaseFilter`), and its link carries the same filter as query parameters, so
the list behind a number holds exactly the cases counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taizhang.cases.models import Case
from taizhang.cases.queries import CaseFilter, apply_filter
from taizhang.errors import forbidden, not_found
from taizhang.insight.kpi import common_path
from taizhang.org.models import Division
from taizhang.org.scopes import grants_of

from ..context import DASHBOARD_ROLES

# Periods a leader picks from: cases reported in the last N days (None: since the first case).
PERIODS = {"30": 30, "90": 90, "365": 365, "all": None}
PERIOD_LABELS = {"30": _("近30天"), "90": _("近90天"), "365": _("近一年"), "all": _("全部")}
DEFAULT_PERIOD = "90"


def check_dashboard(user) -> None:
    """Leaders, dispatchers, inspectors and intake staff (and administrators) see the dashboard."""
    if user.is_superuser or any(g.role in DASHBOARD_ROLES for g in grants_of(user)):
        return
    raise forbidden("role_not_allowed", "驾驶舱仅供领导、派遣员、受理员和纪委监督人员查看")


def home_division(user) -> Division | None:
    """The division all of the person's posts lie in (None: no post, e.g. an administrator)."""
    paths = [
        g.division.path if g.division is not None else g.unit.division.path
        for g in grants_of(user)
        if g.division is not None or g.unit is not None
    ]
    path = common_path(paths)
    if not path:
        return None
    return Division.objects.filter(code=path.strip("/").split("/")[-1]).first()


@dataclass
class Scope:
    user: object
    now: datetime
    period: str
    home: Division | None
    division: Division | None
    start: date | None  # first day counted; None until known for "all" (the first case's day)

    @property
    def today(self) -> date:
        return timezone.localtime(self.now).date()

    def filter_params(self, period: bool = True, **extra) -> dict[str, str]:
        """The case list's parameters for the scope plus `extra` (empty values are left out).

        `period=False` leaves out the period's `created_from` (cases closed in the period, say)."""
        params: dict[str, str] = {}
        if self.division is not None:
            params["division"] = self.division.code
        if period and self.start is not None and PERIODS[self.period] is not None:
            params["created_from"] = self.start.isoformat()
        params.update({k: str(v) for k, v in extra.items() if v not in ("", None)})
        return params

    def link(self, period: bool = True, **extra) -> str:
        """The case list holding exactly the cases counted with `cases(period, **extra)`."""
        return f"{reverse('cases:list')}?{urlencode(self.filter_params(period, **extra))}"

    def cases(self, period: bool = True, **extra):
        """The person's cases in the scope, narrowed like the list narrows them for `link(**extra)`."""
        params = self.filter_params(period, **extra)
        for key in ("overdue", "escalated"):
            if key in params:
                params[key] = params[key] == "1"
        return apply_filter(Case.objects.for_user(self.user, "view"), CaseFilter(**params), self.now)

    def dashboard_url(self, division: Division | None = None, period: str | None = None) -> str:
        params = {"period": period or self.period}
        target = division if division is not None else self.division
        if target is not None and target != self.home:
            params["division"] = target.code
        return f"{reverse('dashboard:home')}?{urlencode(params)}"


def parse_scope(user, params: QueryDict, now: datetime) -> Scope:
    """The scope from `?period=&division=`; a division outside the person's area is not found."""
    check_dashboard(user)
    period = params.get("period", DEFAULT_PERIOD)
    if period not in PERIODS:
        period = DEFAULT_PERIOD
    home = home_division(user)
    division = home
    code = params.get("division", "")
    if code:
        division = Division.objects.filter(code=code).first()
        if division is None or (home is not None and not home.contains(division)):
            raise not_found("找不到该区划或不在您的范围内")
    days = PERIODS[period]
    start = timezone.localtime(now).date() - timedelta(days=days - 1) if days else None
    return Scope(user=user, now=now, period=period, home=home, division=division, start=start)
