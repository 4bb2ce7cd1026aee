"""/replies/ (答复质量): the scored answers of the cases a supervisor may see, with a summary, filters in the
URL and pages. The rows come from `reply_quality_list`, the query behind /api/v1/replies/quality."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from taizhang.cases.queries import DAY_OUT_OF_RANGE, FIRST_DAY, LAST_DAY
from taizhang.errors import ActionError, FieldError
from taizhang.insight.reply_index import check_reply_viewer, reply_quality_list
from taizhang.org.scopes import visible_nodes

from ..caselist.filters import without
from ..pages import guarded_page, list_or_results

PAGE_SIZE = 25
ORDERS = {"recent": _("最新答复在前"), "weakest": _("综合分最低在前")}


@dataclass
class ReplyQuery:
    """The page's query string, read; bad values become field errors to show in place."""

    weak: bool | None = None
    start: date | None = None
    end: date | None = None
    unit: str = ""
    division: str = ""
    order: str = "recent"
    page: int = 1
    errors: list[FieldError] = field(default_factory=list)

    def error_fields(self) -> set[str]:
        return {e.field for e in self.errors}


def read_date(params: QueryDict, name: str, label: str, errors: list[FieldError]) -> date | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError(name, "invalid_date", f"{label}须为 YYYY-MM-DD 格式的日期：{raw}"))
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        errors.append(FieldError(name, "date_out_of_range", f"{label}：{DAY_OUT_OF_RANGE}"))
        return None
    return day


def parse(params: QueryDict) -> ReplyQuery:
    """Read `weak`, `from`, `to` (both days included, as in the case list), `unit`, `division`, `order`
    and `page`."""
    query = ReplyQuery(unit=params.get("unit", "").strip(), division=params.get("division", "").strip())
    errors = query.errors
    weak = params.get("weak", "")
    if weak in ("1", "true", "on"):
        query.weak = True
    elif weak in ("0", "false"):
        query.weak = False
    elif weak:
        errors.append(FieldError("weak", "invalid_choice", f"weak 须为 1 或 0：{weak}"))
    query.start = read_date(params, "from", "开始日期", errors)
    query.end = read_date(params, "to", "截止日期", errors)
    if query.start and query.end and query.start > query.end:
        errors.append(FieldError("from", "invalid_range", "开始日期不能晚于截止日期"))
    order = params.get("order", "") or "recent"
    if order in ORDERS:
        query.order = order
    else:
        errors.append(FieldError("order", "invalid_choice", f"无效的排序方式：{order}"))
    try:
        query.page = int(params.get("page", "") or "1")
        if query.page < 1:
            raise ValueError
    except ValueError:
        errors.append(FieldError("page", "invalid_number", "页码须为正整数"))
        query.page = 1
    return query


@guarded_page("replies", _("答复质量"), check_reply_viewer)
def reply_list(request: HttpRequest) -> HttpResponse:
    """Summary and table of scored answers; 403 for anybody who may not read reply quality."""
    user = request.user
    query = parse(request.GET)
    result = None
    if not query.errors:
        try:
            result = reply_quality_list(
                user,
                weak=query.weak,
                start=query.start,
                end=query.end + timedelta(days=1) if query.end else None,  # the page's `to` is included
                unit=query.unit,
                division=query.division,
                order=query.order,
                limit=PAGE_SIZE,
                offset=(query.page - 1) * PAGE_SIZE,
            )
        except ActionError as exc:
            query.errors.extend(exc.errors or [FieldError("", exc.code, exc.message)])
    total = result["summary"]["answers"] if result else 0
    divisions, units = visible_nodes(user)
    context = {
        "query": query,
        "bad": query.error_fields(),
        "result": result,
        "rows": [{**item, "url": reverse("case:detail", args=[item["number"]])} for item in result["items"]]
        if result
        else [],
        "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "divisions": list(divisions.values_list("code", "name")),
        "units": list(units.values_list("code", "name")),
        "orders": ORDERS,
        "base_qs": without(request.GET, "page"),
        "weak_qs": without(request.GET, "page", "weak"),
    }
    return list_or_results(request, "replies", context, status=400 if query.errors else 200)
