"""The monthly report as documents: a PDF (WeasyPrint, as the petition notices) and an xlsx workbook
with one sheet per section. Documents are always in Chinese, whatever the reader's page language.

Links: with a `base` URL (the site's address, e.g. "https://taizhang.example.cn") the PDF's numbers
and the workbook's counts link to their case lists; without one (a scheduled report) they are plain.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import timezone, translation
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from taizhang.cases.notices import notice_pdf
from taizhang.spreadsheet import text_row

from .data import monthly_data
from .figures import Compared, Rate
from .scope import MonthScope

FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
PERCENT = "0.0%"


@dataclass(frozen=True)
class Document:
    content: bytes
    content_type: str
    filename: str


def monthly_document(scope: MonthScope, fmt: str, base: str = "") -> Document:
    """The report of `scope` as a PDF or xlsx (`fmt`); 503 `pdf_unavailable` without Pango."""
    with translation.override("zh-hans"):
        data = monthly_data(scope)
        content = report_pdf(data, base) if fmt == "pdf" else report_workbook(data, base)
    suffix = f"-{scope.division.code}" if scope.division is not None else ""
    return Document(content, FORMATS[fmt], f"monthly-{scope.month.code}{suffix}.{fmt}")


def report_pdf(data: dict, base: str = "") -> bytes:
    """The report as a PDF document (the petition notices' WeasyPrint helper)."""
    html = render_to_string("web/monthly/document.html", {**data, "base": base.rstrip("/")})
    return notice_pdf(html)


# -- the workbook ------------------------------------------------------------------------------------


def report_workbook(data: dict, base: str = "") -> bytes:
    """One sheet per section: 概况, 按机制, 每日, 按区划, 按责任单位, 考核指标, 热点 and 弱答复 (for who
    may read answer scores)."""
    base = base.rstrip("/")
    wb = Workbook()
    ws = wb.active
    ws.title = "概况"
    scope, month = data["scope"], data["month"]
    made = timezone.localtime(scope.now)
    for row in (
        ("月度报告", f"{data['area']} · {month.label}"),
        ("统计期间", f"{month.first} 至 {scope.today}" + ("（本月尚未结束）" if scope.partial else "")),
        ("生成时间", f"{made:%Y-%m-%d %H:%M}"),
        (),
    ):
        ws.append(text_row(ws, row))
    ws["A1"].font = Font(bold=True, size=14)
    table(
        ws,
        ["指标", "本月", "上月", "增减"],
        [compared_row(item) for item in data["headline"]],
        [16, 14, 14, 12],
    )
    links(
        ws,
        base,
        6,
        [(item.current.url if isinstance(item, Compared) else "") for item in data["headline"]],
        2,
    )

    ws = wb.create_sheet("按机制")
    rows = [[m["name"], *compared_row(item)] for m in data["mechanisms"] for item in m["figures"]]
    table(ws, ["机制", "指标", "本月", "上月", "增减"], rows, [20, 16, 12, 12, 12])

    ws = wb.create_sheet("每日")
    rows = [[p["day"].isoformat(), p["received"], p["closed"]] for p in data["points"]]
    table(ws, ["日期", "受理", "办结"], rows, [14, 10, 10])

    ws = wb.create_sheet("按区划")
    rows = [[d["division"].code, d["division"].name, *tally_row(d)] for d in data["divisions"]]
    table(
        ws,
        ["区划编码", "区划", "受理", "办结", "按期办结", "按期办结率", "超期未办结"],
        rows,
        [16, 20, 10, 10, 10, 12, 12],
    )
    links(ws, base, 2, [d["received"].url for d in data["divisions"]], 3)

    ws = wb.create_sheet("按责任单位")
    rows = [[u["code"], u["name"], *tally_row(u)] for u in data["units"]]
    table(
        ws,
        ["单位编码", "责任单位", "受理", "办结", "按期办结", "按期办结率", "超期未办结"],
        rows,
        [16, 28, 10, 10, 10, 12, 12],
    )
    links(ws, base, 2, [u["overdue"].url for u in data["units"]], 7)

    ws = wb.create_sheet("考核指标")  # a table per mechanism: their rates' windows may differ
    for k in data["kpis"]:
        if ws.max_row > 1:
            ws.append([])
        rows = [
            [k["name"], r["name"], r["cases"].count, *map(number, r["rates"]), number(r["score"])]
            for r in k["rows"]
        ]
        total = [
            k["name"],
            "合计",
            k["total"].count,
            *map(number, k["total_rates"]),
            number(k["total_score"]),
        ]
        headers = ["机制", "承办单位", "案件数", *k["headers"], "综合得分"]
        table(ws, headers, [*rows, total], [18, 28, 8] + [12] * (len(headers) - 3))
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
    if not data["kpis"]:
        ws.append(text_row(ws, ["本月没有考核的诉求"]))

    ws = wb.create_sheet("热点")
    rows = [
        [
            h["name"],
            h["heat"],
            h["demands"].count,
            h["reporters"],
            local(h["first_at"]),
            local(h["last_at"]),
            h["span_days"],
        ]
        for h in data["hot_spots"]
    ]
    table(
        ws,
        ["热点", "热度", "诉求数", "反映人数", "首次反映", "最近反映", "跨度（天）"],
        rows,
        [40, 10, 8, 10, 18, 18, 10],
    )
    links(ws, base, 2, [h["demands"].url for h in data["hot_spots"]], 3)

    if data["replies"] is not None:
        ws = wb.create_sheet("弱答复")
        rows = [
            [
                item["number"],
                item["title"],
                item["unit"],
                local(item["replied_at"]),
                item["overall"],
                "；".join(item["reasons"]),
            ]
            for item in data["replies"]["items"]
        ]
        table(
            ws, ["案件编号", "标题", "承办单位", "答复时间", "综合分", "问题"], rows, [18, 36, 24, 18, 8, 50]
        )
        links(ws, base, 2, [item["url"] for item in data["replies"]["items"]], 1)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@dataclass(frozen=True)
class Pct:
    """A share for the workbook: written as a number with a percentage format ("—" when None)."""

    value: float | None


def table(ws, header: list[str], rows: list[list], widths: list[int]) -> None:
    """A header row in bold on blue, then the rows (`Pct` cells as percentages)."""
    ws.append(text_row(ws, header))
    first = ws.max_row
    for cell in ws[first]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in rows:
        ws.append(
            text_row(ws, [(("—" if v.value is None else v.value) if isinstance(v, Pct) else v) for v in row])
        )
        for cell, value in zip(ws[ws.max_row], row, strict=False):
            if isinstance(value, Pct) and value.value is not None:
                cell.number_format = PERCENT
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    if ws.freeze_panes is None:  # the first table's header stays in view
        ws.freeze_panes = ws.cell(row=first + 1, column=1)


def links(ws, base: str, first_row: int, urls: list[str], column: int) -> None:
    """Hyperlinks from the cells of `column` (rows from `first_row` on) to their case lists."""
    if not base:
        return
    for offset, url in enumerate(urls):
        if url:
            cell = ws.cell(row=first_row + offset, column=column)
            cell.hyperlink = base + url
            cell.font = Font(color="0B5CAD", underline="single")


def compared_row(item) -> list:
    """指标, 本月, 上月, 增减 (a rate's change in percentage points)."""
    if isinstance(item, Rate):
        points = item.delta_text + ("个百分点" if item.delta_text != "—" else "")
        return [item.label, Pct(item.current), Pct(item.before), points]
    return [item.label, item.current.count, item.before.count, item.delta]


def tally_row(row: dict) -> list:
    t = row["received"].count, row["closed"].count, row["on_time"].count
    return [*t, number(row["rate"]), row["overdue"].count]


def number(text: str):
    """A figure shown as text ("95.0%", "87.5", "—") as a number for the workbook (`Pct` for a share)."""
    try:
        return Pct(round(float(text[:-1]) / 100, 4)) if text.endswith("%") else float(text)
    except ValueError:
        return text


def local(moment):
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None
