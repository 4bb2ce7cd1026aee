"""The monthly report (月度报告) as a page, a PDF and an xlsx workbook, for `?month=&division=`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from taizhang.clock.now import now as clock_now
from taizhang.errors import ActionError

from ..pages import refused_page
from .data import monthly_data
from .export import monthly_document
from .scope import MonthScope, parse_scope


def scope_of(request: HttpRequest) -> MonthScope:
    return parse_scope(request.user, request.GET.get("month"), request.GET.get("division"), clock_now())


def refused(request: HttpRequest, exc: ActionError) -> HttpResponse:
    """The report's error page: the message in Chinese (bad month or division, no right, no PDF)."""
    links = [(reverse("monthly:page"), _("查看上月报告")), (reverse("workbench"), _("返回工作台"))]
    return refused_page(request, _("月度报告"), exc, links)


@login_required
def page(request: HttpRequest) -> HttpResponse:
    """The report of a month for the person's area (or a division in it)."""
    request.nav_active = "monthly"
    try:
        scope = scope_of(request)
    except ActionError as exc:
        return refused(request, exc)
    return render(request, "web/monthly/report.html", monthly_data(scope))


def document(request: HttpRequest, fmt: str) -> HttpResponse:
    request.nav_active = "monthly"
    try:
        made = monthly_document(scope_of(request), fmt, base=request.build_absolute_uri("/"))
    except ActionError as exc:  # bad input, no right, or no Pango for the PDF (503 pdf_unavailable)
        return refused(request, exc)
    response = HttpResponse(made.content, content_type=made.content_type)
    disposition = "inline" if fmt == "pdf" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{made.filename}"'
    return response


@login_required
def pdf(request: HttpRequest) -> HttpResponse:
    """The report as a PDF (WeasyPrint with Noto CJK); 503 when the server cannot make PDFs."""
    return document(request, "pdf")


@login_required
def xlsx(request: HttpRequest) -> HttpResponse:
    """The report as an xlsx workbook, one sheet per section."""
    return document(request, "xlsx")
