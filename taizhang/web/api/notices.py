"""Written notices of a case (受理告知书, 处理意见书 …) as printable HTML pages."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router, Schema

from taizhang.cases.actions import get_case
from taizhang.cases.notices import issued_notices, render_notice
from taizhang.errors import ActionError

from .schemas import ErrorOut

router = Router(tags=["notices"])
ERRORS = {401: ErrorOut, 404: ErrorOut, 406: ErrorOut, 409: ErrorOut}


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
    summary="书面告知（HTML，可打印）",
    response={**ERRORS},
    openapi_extra={"responses": {200: {"description": "HTML", "content": {"text/html": {}}}}},
)
def get_notice(request, ref: str, kind: str, format: str = "html"):
    case = get_case(request.auth, ref)
    if format not in ("html", "pdf"):
        raise ActionError("unknown_format", f"不支持的格式 {format}（可用：html）", 406)
    html = render_notice(case, kind)
    if format == "pdf":
        # WeasyPrint needs Pango and a CJK font (fonts-noto-cjk) on the server; neither is part of the
        # project, so the API offers the HTML, which prints to PDF from any browser.
        raise ActionError(
            "pdf_unavailable", "本服务器不提供 PDF 版本，请打开 HTML 版本后打印或另存为 PDF", 406
        )
    return HttpResponse(html, content_type="text/html; charset=utf-8")
