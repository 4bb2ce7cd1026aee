"""GET /api/v1/hotspots: the hottest hot spots (热点) the caller may see, each with its cases."""

from __future__ import annotations

from datetime import datetime

from ninja import Query, Router, Schema
from pydantic import Field

from taizhang.errors import FieldError, invalid
from taizhang.mechanisms.registry import get_registry
from taizhang.web.api.schemas import ErrorOut

from .hotspot_queries import top_hotspots

router = Router(tags=["hotspots"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


class HotSpotQuery(Schema):
    limit: int | None = Field(None, description="条数（1–50，默认见 hotspots.yaml）")
    days: int | None = Field(None, description="只列最近一条诉求在这么多天内的热点（1–366）")
    mechanism: str = Field("", description="只列该机制的热点，如 demand")


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
    errors = []
    if q.limit is not None and not 1 <= q.limit <= 50:
        errors.append(FieldError("limit", "out_of_range", "limit 须在 1 到 50 之间"))
    if q.days is not None and not 1 <= q.days <= 366:
        errors.append(FieldError("days", "out_of_range", "days 须在 1 到 366 之间"))
    if q.mechanism and q.mechanism not in get_registry().mechanisms:
        errors.append(FieldError("mechanism", "unknown_mechanism", f"没有编码为 {q.mechanism} 的机制"))
    if errors:
        raise invalid(errors)
    found = top_hotspots(request.auth, limit=q.limit, days=q.days, mechanism=q.mechanism or None)
    return [{**v.__dict__, "span_days": v.span_days} for v in found]
