"""Written notices of a case (受理告知书, 处理意见书 …) as printable HTML pages or PDF documents."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router, Schema

from taizhang.cases.actions import get_case
from taizhang.cases.notices import issued_notices, notice_pdf, render_notice
from taizhang.errors import ActionError

from .schemas import ErrorOut

router = Router(tags=["notices"])
ERRORS = {401: ErrorOut, 404: ErrorOut, 406: ErrorOut, 409: ErrorOut, 503: ErrorOut}


class NoticeOut(Schema):
    kind: str
    title: str
    seq: int
    at: str


@router.get("/cases/{ref}/notices", summary="已出具的书面告知", response={200: list[NoticeOut], **ERRORS})
def list_notices(request, ref: str):
    case = get_case(request.auth, ref)
    return [{**n, "at": n["at"].isoformat()} for n in issued_notices(case)]


@router.get(
    "/cases/{ref}/notices/{kind}",
    summary="书面告知（HTML 可打印，或 format=pdf 取 PDF）",
    response={**ERRORS},
    openapi_extra={
        "responses": {
            200: {"description": "HTML or PDF", "content": {"text/html": {}, "application/pdf": {}}}
        }
    },
)
def get_notice(request, ref: str, kind: str, format: str = "html"):
    case = get_case(request.auth, ref)
    if format not in ("html", "pdf"):
        raise ActionError("unknown_format", f"不支持的格式 {format}（可用：html、pdf）", 406)
    html = render_notice(case, kind)
    if format == "pdf":
        response = HttpResponse(notice_pdf(html), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{case.number}-{kind}.pdf"'
        return response
    return HttpResponse(html, content_type="text/html; charset=utf-8")
