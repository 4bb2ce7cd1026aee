"""A register's list as an Excel workbook: every text a string cell (taizhang.spreadsheet: a name like
`=HYPERLINK(…)` stays text), the fields that identify people through the one redaction of exports."""

from __future__ import annotations

import tempfile

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from taizhang.mechanisms.register import Register
from taizhang.registers.present import export_text
from taizhang.spreadsheet import text_cell, text_row


def export_workbook(reg: Register, qs, chunk: int = 2000):
    """A temporary file holding the .xlsx of the items in `qs` (already filtered for the person)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(reg.name[:31])
    fields = reg.definition.fields
    titles = [
        "编号",
        "名称",
        "类别",
        "所在区划",
        "所属单位",
        "地址",
        "纬度",
        "经度",
        *[f.label for f in fields],
        "更新时间",
    ]
    header = []
    for title in titles:
        cell = text_cell(ws, title)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for item in qs.iterator(chunk_size=chunk):
        ws.append(
            text_row(
                ws,
                [
                    item.number,
                    item.name,
                    reg.category_name(item.category) if item.category else "",
                    item.division.name if item.division_id else "",
                    item.unit.name if item.unit_id else "",
                    item.address,
                    float(item.lat) if item.lat is not None else None,
                    float(item.lon) if item.lon is not None else None,
                    *[export_text(reg, item, f.name) for f in fields],
                    timezone.localtime(item.updated_at).replace(tzinfo=None),
                ],
            )
        )
    out = tempfile.TemporaryFile(suffix=".xlsx")
    wb.save(out)
    out.seek(0)
    return out
