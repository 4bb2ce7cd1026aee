"""Register endpoints (台账): they parse input, call one action and render its result.

Errors as everywhere in the API: 404 `not_found` for a register or item the caller may not see, 403
`role_not_allowed`, 409 `stale_version`, 422 `invalid` (field errors: `required`, `invalid_choice`,
`assessment_only`, `not_assessed`, `unknown_division` …) or `no_change`.
"""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Schema, Status

from taizhang.mechanisms.registry import get_registry
from taizhang.registers.actions import (
    ATTRS,
    ItemInput,
    do_assess_item,
    do_change_item,
    do_create_item,
    get_item,
    get_register_or_404,
)
from taizhang.registers.models import RegisterItem
from taizhang.registers.present import event_data, item_data
from taizhang.registers.queries import item_list, parse_filter
from taizhang.registers.references import cases_about, names_item

from .schemas import ErrorOut

router = Router(tags=["registers"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class ItemIn(Schema):
    name: str = ""
    category: str = ""
    division: str = ""
    unit: str = ""
    address: str = ""
    lat: float | str | None = None
    lon: float | str | None = None
    fields: dict[str, Any] = {}
    opinion: str = ""


class ItemChangeIn(Schema):
    """Only the attributes written are changed (`""` clears one); `version`: the one the caller saw."""

    name: str | None = None
    category: str | None = None
    division: str | None = None
    unit: str | None = None
    address: str | None = None
    lat: float | str | None = None
    lon: float | str | None = None
    fields: dict[str, Any] = {}
    opinion: str = ""
    version: int | None = None


class AssessIn(Schema):
    fields: dict[str, Any]
    opinion: str = ""
    version: int | None = None


class ItemOut(Schema):
    number: str
    register_code: str
    name: str
    category: str
    category_name: str
    division: str | None
    division_name: str | None
    unit: str | None
    unit_name: str | None
    address: str
    lat: float | None
    lon: float | None
    fields: dict[str, Any]
    version: int
    assessed_at: str | None
    created_at: str
    updated_at: str


class ItemPage(Schema):
    items: list[ItemOut]
    total: int


class EventOut(Schema):
    seq: int
    kind: str
    actor: str
    role: str
    opinion: str
    changes: dict[str, Any]
    at: str
    hash: str


class CaseRef(Schema):
    number: str
    mechanism: str
    title: str
    state: str
    created_at: str
    current: bool  # false: the case named the item once, its field names another item (or none) today


class ItemDetailOut(ItemOut):
    history: list[EventOut]
    cases: list[CaseRef]


def written(item: RegisterItem) -> dict:
    """The item as just written (the actor may have moved it out of their sight: no 404 then)."""
    item = RegisterItem.objects.select_related("division", "unit").get(pk=item.pk)
    return item_data(get_register_or_404(item.register), item)


@router.get("/registers", summary="台账列表", response={200: list[dict], 401: ErrorOut})
def list_registers(request):
    return [
        {
            "code": r.code,
            "name": r.name,
            "version": r.definition.version,
            "categories": [c.model_dump() for c in r.definition.categories],
            "fields": [f.model_dump(by_alias=True) for f in r.definition.fields],
            "assessment": r.definition.assessment.model_dump() if r.definition.assessment else None,
        }
        for r in get_registry().registers.values()
    ]


@router.get("/registers/{code}/items", summary="台账条目列表", response={200: ItemPage, **ERRORS})
def list_items(request, code: str, offset: int = 0, limit: int = Query(50, ge=1, le=200)):
    reg = get_register_or_404(code)
    f = parse_filter(reg, request.GET)
    if f.errors:
        from taizhang.errors import invalid

        raise invalid(f.errors, "筛选条件有误")
    qs = item_list(request.auth, reg, f)
    offset = max(offset, 0)
    return {"items": [item_data(reg, i) for i in qs[offset : offset + limit]], "total": qs.count()}


@router.post("/registers/{code}/items", summary="建立台账条目", response={201: ItemOut, **ERRORS})
def create_item(request, code: str, payload: ItemIn):
    item = do_create_item(request.auth, code, ItemInput(**payload.dict()))
    return Status(201, written(item))


@router.get(
    "/register-items/{number}",
    summary="台账条目（含记录和相关案件）",
    response={200: ItemDetailOut, **ERRORS},
)
def get_register_item(request, number: str):
    item = get_item(request.auth, number)
    reg = get_register_or_404(item.register)
    cases = [
        {
            "number": c.number,
            "mechanism": c.mechanism,
            "title": c.title,
            "state": c.state,
            "created_at": c.created_at.isoformat(),
            "current": names_item(c, item),
        }
        for c in cases_about(request.auth, item)
    ]
    history = [event_data(e) for e in item.events.order_by("seq")]
    return {**item_data(reg, item), "history": history, "cases": cases}


@router.post("/register-items/{number}/changes", summary="变更台账条目", response={200: ItemOut, **ERRORS})
def change_item(request, number: str, payload: ItemChangeIn):
    given = {k: v for k, v in payload.dict().items() if k in ATTRS and v is not None}
    data = ItemInput(
        **given,
        fields=payload.fields,
        opinion=payload.opinion,
        version=payload.version,
        given=frozenset(given),
    )
    return written(do_change_item(request.auth, number, data))


@router.post("/register-items/{number}/assessments", summary="重新评估", response={200: ItemOut, **ERRORS})
def assess_item(request, number: str, payload: AssessIn):
    return written(do_assess_item(request.auth, number, payload.fields, payload.opinion, payload.version))
