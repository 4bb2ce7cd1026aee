"""Case endpoints: they parse input, call one action and render its result."""

from __future__ import annotations

from ninja import File, Header, Query, Router, Status
from ninja.files import UploadedFile

from taizhang.cases.actions import TransitionRequest, do_transition, get_case
from taizhang.cases.approvals import do_decide
from taizhang.cases.attachments import do_upload_attachment
from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.downloads import get_attachment
from taizhang.cases.links import do_link
from taizhang.cases.models import Case
from taizhang.cases.parties import with_parties
from taizhang.cases.present import attachment_data, case_data, case_detail, is_public_viewer
from taizhang.cases.queries import CaseFilter, apply_filter, page
from taizhang.errors import FieldError, invalid
from taizhang.mechanisms.registry import get_registry

from ..media import attachment_response
from .schemas import (
    AttachmentOut,
    CaseDetailOut,
    CaseIn,
    CaseOut,
    CasePage,
    DecisionIn,
    ErrorOut,
    LinkIn,
    TransitionIn,
)

router = Router(tags=["cases"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class ListQuery(CaseFilter):
    cursor: str | None = None
    limit: int = 50


def reload(case: Case) -> Case:
    """The case as written, for the response to the person who just acted on it.

    Not through `for_user`: an action may take the case out of the actor's sight (退回 clears the unit,
    转联合执法 hands it to another unit), and the write has happened, so answering 404 would be wrong.
    """
    return Case.objects.select_related("division", "unit", "reporter").get(pk=case.pk)


@router.get("/mechanisms", summary="机制列表", response={200: list[dict], 401: ErrorOut})
def list_mechanisms(request):
    return [
        {
            "code": m.code,
            "name": m.name,
            "version": m.definition.version,
            "states": [s.model_dump() for s in m.definition.states],
            "transitions": [t.model_dump(by_alias=True) for t in m.definition.transitions],
            "categories": [c.model_dump() for c in m.definition.categories],
            "grades": [c.model_dump() for c in m.definition.grades],
            "channels": [c.model_dump() for c in m.definition.channels],
            "fields": [f.model_dump() for f in m.definition.fields],
        }
        for m in get_registry().mechanisms.values()
    ]


@router.post("/cases", summary="上报案件", response={200: CaseOut, 201: CaseOut, **ERRORS})
def create_case(
    request, payload: CaseIn, idempotency_key: str | None = Header(None, alias="Idempotency-Key")
):
    case, created = do_create_case(request.auth, CaseInput(**payload.dict()), idempotency_key)
    case = (
        Case.objects.select_related("division", "unit", "reporter")
        .prefetch_related(with_parties())
        .get(pk=case.pk)
    )
    return Status(201 if created else 200, case_data(case, public=is_public_viewer(request.auth, case)))


@router.get("/cases", summary="案件列表", response={200: CasePage, **ERRORS})
def list_cases(request, filters: Query[ListQuery]):
    if not 1 <= filters.limit <= 200:
        raise invalid([FieldError("limit", "out_of_range", "limit 须在 1 到 200 之间")])
    qs = apply_filter(Case.objects.for_user(request.auth, "view"), filters)
    rows, cursor = page(
        qs.select_related("division", "unit", "reporter").prefetch_related(with_parties()),
        filters.cursor,
        filters.limit,
    )
    items = [case_data(c, public=is_public_viewer(request.auth, c)) for c in rows]
    return {"items": items, "next_cursor": cursor}


@router.get("/cases/{ref}", summary="案件详情（含流转记录）", response={200: CaseDetailOut, **ERRORS})
def get_case_detail(request, ref: str):
    return case_detail(request.auth, get_case(request.auth, ref))


@router.post("/cases/{ref}/transitions", summary="执行流转", response={200: CaseDetailOut, **ERRORS})
def take_transition(request, ref: str, payload: TransitionIn):
    case = do_transition(request.auth, ref, TransitionRequest(**payload.dict()))
    return case_detail(request.auth, reload(case))


@router.post(
    "/cases/{ref}/decision", summary="审批待批申请（延期、挂账）", response={200: CaseDetailOut, **ERRORS}
)
def decide(request, ref: str, payload: DecisionIn):
    case = do_decide(request.auth, ref, payload.approve, payload.opinion, payload.expected_version)
    return case_detail(request.auth, reload(case))


@router.post("/cases/{ref}/links", summary="关联或解除关联另一案件", response={200: CaseDetailOut, **ERRORS})
def link_case(request, ref: str, payload: LinkIn):
    case = do_link(request.auth, ref, payload.other, payload.unlink, payload.opinion)
    return case_detail(request.auth, reload(case))


@router.post("/attachments", summary="上传附件（照片、PDF）", response={201: AttachmentOut, **ERRORS})
def upload_attachment(request, file: File[UploadedFile]):
    attachment = do_upload_attachment(request.auth, file.name or "upload", file.file, file.size)
    return Status(201, attachment_data(attachment))


@router.get(
    "/attachments/{attachment_id}",
    summary="下载附件",
    url_name="attachment_download",
    response={200: None, **ERRORS},
)
def download_attachment(request, attachment_id: int):
    return attachment_response(get_attachment(request.auth, attachment_id))
