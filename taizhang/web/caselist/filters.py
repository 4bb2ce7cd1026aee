"""The case list's query string: the API's CaseFilter plus the 工作台 views, sorting and paging.

Everything a list shows is in its URL, so a filtered list can be bookmarked, shared and exported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError

from taizhang.cases.models import Case
from taizhang.cases.queries import CaseFilter, apply_filter
from taizhang.cases.todo import todo_q
from taizhang.errors import ActionError, FieldError, pydantic_message

from ..presenters import SOON
from ..workbench.views import RECENT

SORTS = {
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "due": ("due_at", "pk"),
    "-updated": ("-updated_at", "-pk"),
    "number": ("number",),
}
SORT_LABELS = {
    "-created": _("最新上报"),
    "created": _("最早上报"),
    "due": _("截止时间最近"),
    "-updated": _("最近更新"),
    "number": _("编号"),
}
VIEWS = {"todo": _("我的待办"), "due": _("24小时内到期"), "recent": _("近7日有变化")}
FILTER_KEYS = ("mechanism", "state", "state_kind", "unit", "division", "grade", "category", "channel")


@dataclass
class ListQuery:
    filters: CaseFilter
    view: str = ""
    sort: str = "-created"
    page: int = 1
    errors: list[FieldError] = field(default_factory=list)


def parse(params: QueryDict) -> ListQuery:
    """Read the list's parameters; bad values become field errors to show, never a crash."""
    errors: list[FieldError] = []
    raw: dict = {k: params.get(k, "") for k in FILTER_KEYS if k != "state"}
    raw["state"] = [s for s in params.getlist("state") if s]
    raw["q"] = params.get("q", "")
    for key in ("created_from", "created_to", "closed_from", "closed_to", "hotspot"):
        if params.get(key):
            raw[key] = params[key]
    for key in ("overdue", "escalated"):
        value = params.get(key, "")
        if value in ("1", "true", "on"):
            raw[key] = True
        elif value in ("0", "false"):
            raw[key] = False
    try:
        filters = CaseFilter(**raw)
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "filters"
            errors.append(FieldError(name, err["type"], pydantic_message(err)))
            raw.pop(name, None)
        filters = CaseFilter(**raw)
    view = params.get("view", "")
    if view and view not in VIEWS:
        errors.append(FieldError("view", "invalid_choice", f"无效的视图：{view}"))
        view = ""
    sort = params.get("sort", "-created")
    if sort not in SORTS:
        errors.append(FieldError("sort", "invalid_choice", f"无效的排序方式：{sort}"))
        sort = "-created"
    try:
        page = max(1, int(params.get("page", "1")))
    except ValueError:
        errors.append(FieldError("page", "invalid_number", "页码须为正整数"))
        page = 1
    return ListQuery(filters, view, sort, page, errors)


def cases_for(user, query: ListQuery, now: datetime):
    """The person's cases narrowed by the query, sorted; filter errors are added to `query.errors`."""
    qs = Case.objects.for_user(user, "view").select_related("division", "unit")
    try:
        qs = apply_filter(qs, query.filters, now)
    except ActionError as exc:
        query.errors.extend(exc.errors)
        qs = qs.none()
    if query.view == "todo":
        qs = qs.filter(todo_q(user))
    elif query.view == "due":
        qs = qs.exclude(state_kind="closed").filter(due_at__gte=now, due_at__lte=now + SOON, clock_left="")
    elif query.view == "recent":
        qs = qs.filter(updated_at__gte=now - RECENT)
    return qs.order_by(*SORTS[query.sort])


def without(params: QueryDict, *keys: str) -> str:
    """The query string minus some keys (for sort links and pagers)."""
    q = params.copy()
    for key in keys:
        q.pop(key, None)
    return q.urlencode()
