"""The front door and the 工作台: what waits for me, what is due, what is overdue, what changed."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from taizhang.cases.models import Case
from taizhang.cases.todo import todo_q
from taizhang.clock.now import now as clock_now

from ..context import staff_roles
from ..presenters import SOON, case_rows

# Recently changed: what moved in the last few days (a person back from leave sees their week).
RECENT = timedelta(days=7)
LIST_SIZE = 8


def home(request: HttpRequest) -> HttpResponse:
    """Staff go to their 工作台, residents to their demands, visitors see the public front page."""
    user = request.user
    if user.is_authenticated:
        if staff_roles(user) or user.is_superuser:
            return redirect("workbench")
        return redirect("portal:home")
    return render(request, "web/landing.html")


def sections(user, now) -> list[dict]:
    """The four panels of the 工作台, each a count, the first rows and the list URL behind it."""
    cases = Case.objects.for_user(user, "act").select_related("division", "unit")
    open_cases = cases.exclude(state_kind="closed")
    todo = cases.filter(todo_q(user))
    due = open_cases.filter(due_at__gte=now, due_at__lte=now + SOON, clock_left="")
    overdue = open_cases.filter(overdue_since__isnull=False)
    recent = cases.filter(updated_at__gte=now - RECENT)
    list_url = reverse("cases:list")
    spec = [
        ("todo", _("我的待办"), _("等待我办理或审批的案件"), todo.order_by("due_at", "pk"), "view=todo", ""),
        ("due", _("24小时内到期"), _("请优先处理"), due.order_by("due_at"), "view=due", "warn"),
        (
            "overdue",
            _("已超期"),
            _("超过办理时限仍未办结"),
            overdue.order_by("overdue_since"),
            "overdue=1",
            "bad",
        ),
        (
            "recent",
            _("近7日有变化"),
            _("最近一周有新进展的案件"),
            recent.order_by("-updated_at"),
            "view=recent",
            "",
        ),
    ]
    out = []
    for key, title, hint, qs, query, tone in spec:
        out.append(
            {
                "key": key,
                "title": title,
                "hint": hint,
                "count": qs.count(),
                "rows": case_rows(qs[:LIST_SIZE], now),
                "url": f"{list_url}?{query}",
                "tone": tone,
            }
        )
    return out


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    """The person's 工作台; residents have none and go to their demands."""
    user = request.user
    if not (staff_roles(user) or user.is_superuser):
        return redirect("portal:home")
    request.nav_active = "workbench"
    now = clock_now()
    return render(request, "web/workbench/workbench.html", {"sections": sections(user, now), "now": now})
