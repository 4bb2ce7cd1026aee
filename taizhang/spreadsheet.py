"""Rows for openpyxl workbooks in which text stays text.

openpyxl turns a string that starts with "=" into a formula and one like "#N/A" into an error value, so a
case titled `=HYPERLINK("http://evil","x")` would become a live link in the exported workbook. Every
exporter appends its rows through `text_row`: each str is a string cell holding the exact text (a leading
=, +, - or @ is then inert in Excel, LibreOffice and WPS; nothing is prefixed or changed).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import Cell


def text_cell(ws, value: Any) -> Cell:
    """A cell of `ws` for `value`; a str is always a string cell, never a formula or an error."""
    if isinstance(value, Cell):
        return value
    cell = Cell(ws, row=1, column=1, value=value)  # placed by append, as openpyxl's WriteOnlyCell
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def text_row(ws, values: Iterable[Any]) -> list[Cell]:
    """The cells of one row for `ws.append` (normal or write-only worksheets alike)."""
    return [text_cell(ws, value) for value in values]


# CSV has no string type: Excel, WPS and LibreOffice read a cell that starts with one of these as a
# formula (=HYPERLINK(…), +cmd|…, @SUM(…)), so such a cell gets a leading apostrophe, the spreadsheets'
# own mark for "this is text" (OWASP's advice for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: Any) -> str:
    """A value as a CSV cell that a spreadsheet opens as text, never as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
