"""The case list: filters, sorting, pages, and the same list as an Excel file."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render

from taizhang.clock.now import now as clock_now

from ..pages import list_or_results
from ..presenters import case_rows
from .export import EXPORT_LIMIT, export_workbook
from .filters import SORT_LABELS, VIEWS, cases_for, parse, without
from .options import filter_options

PAGE_SIZE = 25


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    """Cases the person may see, narrowed by the query string (every filter is in the URL)."""
    request.nav_active = "cases"
    now = clock_now()
    query = parse(request.GET)
    qs = cases_for(request.user, query, now)
    paginator = Paginator(qs, PAGE_SIZE)
    page = paginator.get_page(query.page)
    context = {
        "query": query,
        "page": page,
        "rows": case_rows(page.object_list, now),
        "options": filter_options(request.user, query.filters.mechanism),
        "sorts": SORT_LABELS,
        "views": VIEWS,
        "view_label": VIEWS.get(query.view, ""),
        "base_qs": without(request.GET, "page"),
        "sort_qs": without(request.GET, "page", "sort"),
        "export_qs": without(request.GET, "page"),
        "export_limit": EXPORT_LIMIT,
    }
    status = 400 if query.errors else 200
    return list_or_results(request, "caselist", context, status=status)


@login_required
def case_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as .xlsx, with the columns of the page; too many rows is a clear 400."""
    now = clock_now()
    query = parse(request.GET)
    qs = cases_for(request.user, query, now)
    if query.errors:
        return render(request, "web/caselist/export_error.html", {"errors": query.errors}, status=400)
    total = qs.count()
    if total > EXPORT_LIMIT:
        return render(
            request, "web/caselist/export_error.html", {"too_many": total, "limit": EXPORT_LIMIT}, status=400
        )
    stream = export_workbook(qs, now)
    name = f"cases-{now:%Y%m%d-%H%M}.xlsx"
    return FileResponse(stream, as_attachment=True, filename=name)
