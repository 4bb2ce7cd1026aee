"""KPI endpoints: 响应率、解决率、满意率 and the rest, as JSON and as an Excel file."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from taizhang.cases.queries import Day
from taizhang.insight.kpi import KpiRequest, kpi_report
from taizhang.insight.kpi_export import kpi_workbook

from .schemas import ErrorOut

router = Router(tags=["kpis"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class KpiQuery(Schema):
    mechanism: str = "demand"
    start: Day = Field(alias="from", description="统计期间起始日（含），YYYY-MM-DD")
    end: Day = Field(alias="to", description="统计期间截止日（不含），YYYY-MM-DD")
    group: str = Field("unit", description="unit（承办单位）或 division（街道/镇）")
    division: str = Field("", description="只统计该区划下的诉求")
    unit: str = Field("", description="只统计派给该单位（及下级）的诉求")

    def request(self) -> KpiRequest:
        return KpiRequest(self.mechanism, self.start, self.end, self.group, self.division, self.unit)


class RateOut(Schema):
    numerator: float
    denominator: int
    rate: float | None


class KpiFigures(Schema):
    cases: int
    sign_rate: RateOut
    response_rate: RateOut
    close_rate: RateOut
    on_time_rate: RateOut
    resolution_rate: RateOut
    satisfaction_rate: RateOut
    redo_rate: RateOut
    score: float | None


class KpiGroupOut(KpiFigures):
    code: str
    name: str
    weights: dict[str, int]


class KpiOut(Schema):
    mechanism: str
    period: dict[str, str]
    group: str
    rules: dict
    totals: KpiFigures
    groups: list[KpiGroupOut]


@router.get("/kpis", summary="考核指标（三率、签收率、办结率、重办率）", response={200: KpiOut, **ERRORS})
def kpis(request, query: Query[KpiQuery]):
    return kpi_report(request.auth, query.request())


@router.get("/kpis.xlsx", summary="考核指标导出（Excel）", response={200: None, **ERRORS})
def kpis_xlsx(request, query: Query[KpiQuery]):
    report = kpi_report(request.auth, query.request())
    response = HttpResponse(kpi_workbook(report), content_type=XLSX)
    name = f"kpi-{report['mechanism']}-{report['period']['from']}-{report['period']['to']}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
