"""GET /api/v1/replies/quality: scored answers (答复质量) for supervisors, leaders and discipline inspectors."""

from __future__ import annotations

from datetime import datetime

from ninja import Query, Router, Schema
from pydantic import Field

from taizhang.cases.queries import Day
from taizhang.web.api.schemas import ErrorOut

from .reply_index import reply_quality_list

router = Router(tags=["replies"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


class QualityQuery(Schema):
    weak: bool | None = Field(None, description="true：只列弱答复")
    start: Day | None = Field(None, alias="from", description="答复日期起（含），YYYY-MM-DD")
    end: Day | None = Field(None, alias="to", description="答复日期止（不含），YYYY-MM-DD")
    unit: str = Field("", description="只列该单位（及下级）的答复")
    division: str = Field("", description="只列在该区划（及下级）受理的案件的答复")
    order: str = Field("recent", description="recent（最新在前）或 weakest（综合分最低在前）")
    limit: int = 50
    offset: int = 0


class QualityItem(Schema):
    number: str
    title: str
    unit: str
    replied_at: datetime
    due_at: datetime | None
    days_late: float | None
    relevance: float
    completeness: float
    interpretability: float
    timeliness: float | None
    overall: float
    weak: bool
    reasons: list[str]
    points: int
    addressed: int


class QualitySummary(Schema):
    answers: int
    weak: int
    average: float | None


class QualityOut(Schema):
    summary: QualitySummary
    items: list[QualityItem]
    next_offset: int | None


@router.get(
    "/replies/quality",
    summary="答复质量（相关性、完整性、可解释性、及时性）",
    response={200: QualityOut, **ERRORS},
)
def reply_quality(request, q: Query[QualityQuery]):
    return reply_quality_list(
        request.auth,
        weak=q.weak,
        start=q.start,
        end=q.end,
        unit=q.unit,
        division=q.division,
        order=q.order,
        limit=q.limit,
        offset=q.offset,
    )
