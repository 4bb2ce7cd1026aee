"""Streaming readers: a header, then one row at a time, whatever the size of the file.

CSV is decoded in the encoding the mapping declares (default UTF-8, a BOM ignored). Bytes that are
not valid in that encoding do not stop the import: they are kept as surrogates
(``errors="surrogateescape"``) so the row that holds them can be rejected with its row number and
column (see :func:`undecodable`); a header that does not decode is a fatal error, since no column can
be found in it. XLSX is read with openpyxl in read-only mode (rows are parsed lazily from the zipped
XML, so memory does not grow with the sheet). Row numbers count the header as row 1, as a
spreadsheet shows them; for CSV a row is a record (a quoted cell may span lines).
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SURROGATE = re.compile("[\udc80-\udcff]+")
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # a long 诉求内容 is a row, not a crash


class ReadError(Exception):
    """The file cannot be read at all (unknown format, undecodable header, broken XLSX)."""


@dataclass
class Source:
    """An open input: its header, its rows (row number, cells — or a ReadError for a row that cannot
    be parsed) and how far through it is."""

    header: list[str]
    rows: Iterator[tuple[int, list[Any] | ReadError]]
    progress: Any  # () -> fraction read in [0, 1], or None when unknown
    close: Any


def undecodable(value: str) -> str | None:
    """The bytes of `value` its encoding could not decode ("0xb9 0xa4"), or None."""
    found = SURROGATE.findall(value)
    if not found:
        return None
    raw = "".join(found).encode("utf-8", "surrogateescape")[:4]
    return " ".join(f"0x{b:02x}" for b in raw)


def printable(value: Any) -> str:
    """A cell as text safe to write to the (UTF-8) error file."""
    text = "" if value is None else str(value)
    return SURROGATE.sub("\ufffd", text)


def open_source(
    path: Path, encoding: str = "utf-8-sig", delimiter: str = ",", sheet: str | None = None
) -> Source:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return open_xlsx(path, sheet)
    if suffix in (".csv", ".txt", ".tsv"):
        return open_csv(path, encoding, "\t" if suffix == ".tsv" and delimiter == "," else delimiter)
    raise ReadError(f"不支持的文件类型 {path.suffix or '（无扩展名）'}：只能导入 .csv 或 .xlsx")


def open_csv(path: Path, encoding: str, delimiter: str) -> Source:
    try:
        binary = open(path, "rb")
    except OSError as exc:
        raise ReadError(f"无法打开 {path}：{exc.strerror or exc}") from None
    size = path.stat().st_size or 1
    text = io.TextIOWrapper(binary, encoding=encoding, errors="surrogateescape", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        binary.close()
        raise ReadError(f"第 1 行（表头）无法解析：{exc}") from None
    if header is None:
        binary.close()
        raise ReadError("文件是空的，没有表头")
    for i, name in enumerate(header):
        bad = undecodable(name)
        if bad:
            binary.close()
            raise ReadError(
                f"第 1 行（表头）第 {i + 1} 列含无法按 {encoding.removesuffix('-sig')} 解码的字节 {bad}："
                "文件的编码与映射文件不符（中文导出常为 GB18030/GBK），请在映射文件 format.encoding 中声明"
            )
    header = [h.strip() for h in header]

    def rows() -> Iterator[tuple[int, list[Any] | ReadError]]:
        number = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. a NUL byte: this row is rejected, the next one is read
                number += 1
                yield number, ReadError(f"无法解析此行：{exc}")
                continue
            number += 1
            if row and any(cell.strip() for cell in row):
                yield number, row

    return Source(header, rows(), lambda: min(1.0, binary.tell() / size), binary.close)


def open_xlsx(path: Path, sheet: str | None) -> Source:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ReadError(f"无法作为 XLSX 打开 {path.name}：{exc}") from None
    if sheet is not None and sheet not in book.sheetnames:
        book.close()
        raise ReadError(f"工作簿中没有工作表「{sheet}」（有：{'、'.join(book.sheetnames)}）")
    ws = book[sheet] if sheet else book.worksheets[0]
    total = ws.max_row or 0
    it = ws.iter_rows(values_only=True)
    first = next(it, None)
    if first is None:
        book.close()
        raise ReadError("工作表是空的，没有表头")
    header = ["" if v is None else str(v).strip() for v in first]
    while header and header[-1] == "":
        header.pop()
    state = {"row": 1}

    def rows() -> Iterator[tuple[int, list[Any] | ReadError]]:
        for number, values in enumerate(it, start=2):
            state["row"] = number
            if any(v not in (None, "") for v in values):
                yield number, list(values)

    def progress() -> float | None:
        return min(1.0, state["row"] / total) if total > 1 else None

    return Source(header, rows(), progress, book.close)
