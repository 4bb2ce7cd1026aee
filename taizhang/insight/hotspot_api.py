"""GET /api/v1/hotspots: the hottest hot spots (热点) the caller may see, each with its cases."""

from __future__ import annotations

from datetime import datetime

from ninja import Query, Router, Schema
from pydantic import Field

from taizhang.web.api.schemas import ErrorOut

from .hotspot_queries import MAX_DAYS, MAX_LIMIT, hotspot_ranking

router = Router(tags=["hotspots"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


class HotSpotQuery(Schema):
    limit: int | None = Field(None, description=f"条数（1–{MAX_LIMIT}，默认见 hotspots.yaml）")
    days: int | None = Field(None, description=f"只列最近一条诉求在这么多天内的热点（1–{MAX_DAYS}）")
    mechanism: str = Field("", description="只列该机制的热点，如 demand")
    division: str = Field("", description="只计在该区划（及下级）受理的诉求，须为您可查看的区划")


class HotSpotOut(Schema):
    id: int
    name: str
    place: str
    problem: str
    mechanism: str
    heat: float
    count: int
    reporters: int
    support: int
    first_at: datetime
    last_at: datetime
    span_days: float
    case_ids: list[int]
    case_numbers: list[str]


@router.get(
    "/hotspots",
    summary="热点（同一地点同一问题的诉求群，按热度排序）",
    response={200: list[HotSpotOut], **ERRORS},
)
def hotspots(request, q: Query[HotSpotQuery]):
    found, _division = hotspot_ranking(
        request.auth, limit=q.limit, days=q.days, mechanism=q.mechanism, division=q.division
    )
    return [{**v.__dict__, "span_days": v.span_days} for v in found]
