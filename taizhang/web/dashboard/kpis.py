"""The 12345 考核指标 per unit on the dashboard: the same report as /api/v1/kpis, for the scope.

Rates are computed from the history rows (taizhang/insight/kpi.py), so a rate has no case list
behind it; a unit's number of cases links to that unit's cases of the mechanism in the period.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.urls import reverse

from taizhang.errors import ActionError
from taizhang.insight.kpi import RATES, KpiRequest, kpi_report, rate_label
from taizhang.insight.reply_index import may_view_reply_quality
from taizhang.insight.rules import reply_rules
from taizhang.mechanisms.registry import get_registry
from taizhang.mechanisms.schema import KpiRules

from .scope import Scope
from .stats import Figure


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def replies_link(scope: Scope, mechanism: str) -> str:
    """The 答复质量 page for the period, where the mechanism's answers are scored and the person may read them."""
    if not reply_rules().transitions.get(mechanism) or not may_view_reply_quality(scope.user):
        return ""
    params = {"from": scope.start.isoformat(), "to": scope.today.isoformat()}
    return f"{reverse('replies:list')}?{urlencode(params)}"


def kpi_tables(scope: Scope, mechanisms: list[str]) -> list[dict]:
    """One table per mechanism with 考核 rules and cases in scope: units' cases, rates and score."""
    out = []
    end = scope.today + timedelta(days=1)  # the report's end date is excluded
    division = scope.division.code if scope.division is not None else ""
    path = scope.division.path if scope.division is not None else ""
    for code in mechanisms:
        mech = get_registry().mechanisms[code]
        if mech.kpi_rules(path) is None:
            continue  # no 考核 for this mechanism here (the safety-hazard loop has none)
        request = KpiRequest(code, scope.start, end, "unit", division)
        try:
            report = kpi_report(scope.user, request)
        except ActionError:  # no 考核 rules for this scope
            continue
        rules = KpiRules(**report["rules"])
        headers = [rate_label(key, rules) for key, _ in RATES]
        window = {
            "mechanism": code,
            "created_from": scope.start.isoformat(),
            "created_to": scope.today.isoformat(),
        }
        rows = []
        for group in sorted(report["groups"], key=lambda g: (g["score"] is None, -(g["score"] or 0))):
            url = scope.link(unit=group["code"], **window) if group["code"] else ""
            rows.append(
                {
                    "name": group["name"],
                    "cases": Figure(group["name"], group["cases"], url),
                    "rates": [percent(group[key]["rate"]) for key, _ in RATES],
                    "score": "—" if group["score"] is None else f"{group['score']:.1f}",
                }
            )
        totals = report["totals"]
        export = {"mechanism": code, "from": scope.start.isoformat(), "to": end.isoformat(), "group": "unit"}
        if division:
            export["division"] = division
        out.append(
            {
                "code": code,
                "name": mech.name,
                "headers": headers,
                "rows": rows,
                "total": Figure(mech.name, totals["cases"], scope.link(**window)),
                "total_rates": [percent(totals[key]["rate"]) for key, _ in RATES],
                "total_score": "—" if totals["score"] is None else f"{totals['score']:.1f}",
                "export_url": f"{reverse('api-1:kpis_xlsx')}?{urlencode(export)}",
                "replies_url": replies_link(scope, code),
            }
        )
    return out
