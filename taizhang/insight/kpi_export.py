"""The KPI report as an Excel workbook: one row per group and a 合计 row, then a sheet with the rules."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from taizhang.mechanisms.schema import KpiRules
from taizhang.spreadsheet import text_row

from .kpi import RATES, rate_label

PERCENT = "0.0%"
GROUP_LABEL = {"unit": "承办单位", "division": "街道/镇"}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def kpi_workbook(report: dict) -> bytes:
    """The report of `kpi_report` as .xlsx bytes; a rate with no denominator is shown as "—"."""
    rules = KpiRules(**report["rules"])
    wb = Workbook()
    ws = wb.active
    ws.title = "考核指标"
    label = GROUP_LABEL[report["group"]]
    header = [f"{label}编码", label, "案件数"]
    header += [rate_label(key, rules) for key, _ in RATES]
    header += ["综合得分"]
    ws.append(text_row(ws, header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for group in report["groups"]:
        ws.append(text_row(ws, row_of(group["code"], group["name"], group)))
    ws.append(text_row(ws, row_of("", "合计", report["totals"])))
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    first_rate, score_col = 4, 4 + len(RATES)
    for row in ws.iter_rows(min_row=2):
        for cell in row[first_rate - 1 : score_col - 1]:
            if isinstance(cell.value, float | int):
                cell.number_format = PERCENT
            else:
                cell.alignment = Alignment(horizontal="center")
        score_cell = row[score_col - 1]
        if isinstance(score_cell.value, float | int):
            score_cell.number_format = "0.00"
        else:
            score_cell.alignment = Alignment(horizontal="center")
    widths = [16, 28, 8] + [12] * len(RATES) + [10]
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "C2"
    rules_sheet(wb, report, rules)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def row_of(code: str, name: str, data: dict) -> list:
    rates = [data[key]["rate"] for key, _ in RATES]
    return [
        code,
        name,
        data["cases"],
        *(value if value is not None else "—" for value in rates),
        data["score"] if data["score"] is not None else "—",
    ]


def rules_sheet(wb: Workbook, report: dict, rules: KpiRules) -> None:
    ws = wb.create_sheet("口径")
    w = rules.weights
    period = report["period"]
    for row in (
        ("机制", report["mechanism"]),
        ("统计期间", f"{period['from']} 至 {period['to']}（不含）受理的诉求"),
        ("综合得分权重", f"响应率 {w.response}、解决率 {w.resolution}、满意率 {w.satisfaction}"),
        ("基本满意折算", rules.basic_score),
        ("签收时限（小时）", rules.sign_hours),
        ("办结时限（天）", rules.close_days),
        ("说明", "均按流转记录计算；分母为 0 的比率记为“—”。"),
    ):
        ws.append(text_row(ws, row))
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 60
