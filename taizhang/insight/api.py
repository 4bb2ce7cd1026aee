"""Endpoints of similar cases (GET /cases/{ref}/similar) and "me too" (POST /cases/{ref}/metoo)."""

from __future__ import annotations

from datetime import datetime

from ninja import Query, Router, Schema, Status

from taizhang.errors import FieldError, invalid
from taizhang.mechanisms.registry import get_mechanism
from taizhang.web.api.schemas import ErrorOut

from .actions import do_metoo, find_similar
from .similar import THRESHOLD

router = Router(tags=["similar"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class SimilarOut(Schema):
    number: str
    title: str
    score: float
    text_score: float
    place_score: float
    reasons: list[str]
    state: str
    state_name: str
    created_at: datetime


class SimilarQuery(Schema):
    limit: int = 5
    threshold: float = THRESHOLD


class MeTooOut(Schema):
    number: str
    supporters: int
    created: bool


def state_name(mechanism: str, state: str) -> str:
    mech = get_mechanism(mechanism)
    found = next((s for s in mech.definition.states if s.code == state), None)
    return found.name if found else state


@router.get(
    "/cases/{ref}/similar",
    summary="相似案件（并单建议）",
    response={200: list[SimilarOut], **ERRORS},
)
def similar(request, ref: str, q: Query[SimilarQuery]):
    if not 1 <= q.limit <= 20:
        raise invalid([FieldError("limit", "out_of_range", "limit 须在 1 到 20 之间")])
    if not 0 <= q.threshold <= 1:
        raise invalid([FieldError("threshold", "out_of_range", "threshold 须在 0 到 1 之间")])
    found = find_similar(request.auth, ref, limit=q.limit, threshold=q.threshold)
    return [
        {
            "number": s.case.number,
            "title": s.case.title,
            "score": s.score,
            "text_score": s.text,
            "place_score": s.place,
            "reasons": s.reasons,
            "state": s.case.state,
            "state_name": state_name(s.case.mechanism, s.case.state),
            "created_at": s.case.created_at,
        }
        for s in found
    ]


@router.post(
    "/cases/{ref}/metoo", summary="我也遇到（附议）", response={200: MeTooOut, 201: MeTooOut, **ERRORS}
)
def metoo(request, ref: str):
    row, supporters, created = do_metoo(request.auth, ref)
    return Status(
        201 if created else 200, {"number": row.case.number, "supporters": supporters, "created": created}
    )
