"""Excel exports never turn user text into a formula: a title or an address that starts with =, +, - or @
is written as a string cell with its exact text (the case list, the monthly report, the KPI workbook)."""

from __future__ import annotations

import io

import pytest
import time_machine
from openpyxl import load_workbook

from taizhang.org.models import Unit
from tests.cases.helpers import act, at, report
from tests.web.test_monthly_report import FORWARD, demand

EVIL = [
    '=HYPERLINK("http://evil","x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-2+3",
    "#N/A",
]


def cells_of(content: bytes):
    """Every non-empty cell of every sheet of a workbook, as openpyxl reads it back."""
    wb = load_workbook(io.BytesIO(content))
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row if cell.value is not None]


def assert_text_only(content: bytes, expected: list[str]) -> None:
    cells = cells_of(content)
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert formulas == []
    strings = {c.value for c in cells if c.data_type == "s"}
    for text in expected:
        assert text in strings, f"{text!r} is not a string cell"


@pytest.fixture
def evil_unit(world):
    Unit.objects.filter(pk=world.safety_bureau.pk).update(name="=1+2")
    world.safety_bureau.refresh_from_db()
    return world.safety_bureau


def test_case_list_export_writes_titles_and_addresses_as_text(client, world):
    for text in EVIL:
        report(world, title=text, address=text)
    client.force_login(world.leader)
    response = client.get("/cases/export.xlsx")
    assert response.status_code == 200
    assert_text_only(b"".join(response.streaming_content), EVIL)


@pytest.fixture
def october_demands(world, evil_unit):
    """Demands of October 2026 titled with formulas, dispatched to a unit whose name is one, answered
    perfunctorily (so each is among the weakest answers)."""
    with time_machine.travel(at(2026, 10, 16, 9), tick=False) as clock:
        for text in EVIL:
            case = demand(world, text, "和心社区3号楼门前路灯坏了一周，晚上看不见路。")
            act(world.dispatcher, case, "dispatch", params={"unit": evil_unit.code})
            act(world.handler, case, "sign")
            act(world.handler, case, "reply", fields={"reply": FORWARD}, opinion="已答复")
            clock.shift(60)


def test_monthly_workbook_writes_user_text_as_text(client, world, october_demands):
    with time_machine.travel(at(2026, 11, 20, 10), tick=False):
        client.force_login(world.leader)
        response = client.get("/reports/monthly.xlsx?month=2026-10")
    assert response.status_code == 200
    assert_text_only(response.content, [*EVIL, "=1+2"])
    weak = load_workbook(io.BytesIO(response.content))["弱答复"]
    assert {weak.cell(row=r, column=2).value for r in range(2, weak.max_row + 1)} == set(EVIL)


def test_kpi_workbook_writes_unit_names_as_text(client, world, october_demands):
    with time_machine.travel(at(2026, 11, 20, 10), tick=False):
        client.force_login(world.leader)
        response = client.get("/api/v1/kpis.xlsx", {"from": "2026-10-01", "to": "2026-11-01"})
    assert response.status_code == 200, response.content
    assert_text_only(response.content, ["=1+2"])
