"""The case list as an Excel workbook, streamed row by row (openpyxl write-only mode)."""

from __future__ import annotations

import tempfile
from datetime import datetime

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from taizhang.spreadsheet import text_cell, text_row

from ..presenters import case_rows

# An export is a working list, not a data dump: the API pages through anything larger.
EXPORT_LIMIT = 50_000
COLUMNS = [
    ("编号", 16),
    ("标题", 40),
    ("机制", 14),
    ("状态", 12),
    ("等级", 10),
    ("类别", 12),
    ("区划", 16),
    ("责任单位", 20),
    ("时限", 18),
    ("截止时间", 18),
    ("上报时间", 18),
    ("地址", 30),
]
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def local(dt: datetime | None) -> datetime | None:
    return timezone.localtime(dt).replace(tzinfo=None) if dt else None


def export_workbook(qs, now: datetime, chunk: int = 2000):
    """A temporary file holding the .xlsx of the cases in `qs` (already sorted and filtered)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("案件清单")
    for index, (_, width) in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + index)].width = width
    ws.freeze_panes = "A2"
    header = []
    for title, _ in COLUMNS:
        cell = text_cell(ws, title)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        header.append(cell)
    ws.append(header)
    for r in case_rows(qs.iterator(chunk_size=chunk), now):
        c = r.case
        ws.append(
            text_row(
                ws,
                [
                    c.number,
                    c.title,
                    r.mechanism_name,
                    r.state_name,
                    r.grade_name,
                    r.category_name,
                    c.division.name,
                    c.unit.name if c.unit_id else "",
                    r.clock.text,
                    local(c.due_at),
                    local(c.created_at),
                    c.address,
                ],
            )
        )
    out = tempfile.TemporaryFile(suffix=".xlsx")
    wb.save(out)
    out.seek(0)
    return out
