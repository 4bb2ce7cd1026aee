"""The case list: every filter, sorting, pages, errors shown in place, Excel export of the same list."""

from __future__ import annotations

import io

import pytest
import time_machine
from openpyxl import load_workbook

from taizhang.web.caselist import export as export_module
from tests.cases.helpers import at, report, to_rectifying


@pytest.fixture
def cases(world):
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        a = report(world, title="消防通道堵塞", grade="general")
        b = to_rectifying(world, report(world, title="配电箱破损", grade="larger"))
    with time_machine.travel(at(2026, 11, 5, 9), tick=False):
        c = report(world, world.outsider, title="白兔村油库隐患", division=world.other_grid.code)
    return a, b, c


def titles(response) -> set[str]:
    return {r.case.title for r in response.context["rows"]}


def test_anonymous_is_sent_to_login(client, db):
    assert client.get("/cases/")["Location"].startswith("/login/")
    assert client.get("/cases/export.xlsx")["Location"].startswith("/login/")


def test_each_person_sees_only_their_cases(client, world, cases):
    expected = {
        "leader": {"消防通道堵塞", "配电箱破损", "白兔村油库隐患"},
        "inspector": {"消防通道堵塞", "配电箱破损", "白兔村油库隐患"},
        "dispatcher": {"消防通道堵塞", "配电箱破损"},
        "handler": {"配电箱破损"},
        "other_handler": set(),
        "outsider": {"白兔村油库隐患"},
        "resident": set(),
    }
    for persona, want in expected.items():
        client.force_login(getattr(world, persona))
        assert titles(client.get("/cases/")) == want, persona


@pytest.mark.parametrize(
    "query, want",
    [
        ("q=配电箱", {"配电箱破损"}),
        ("grade=larger", {"配电箱破损"}),
        ("state=rectifying", {"配电箱破损"}),
        ("state_kind=closed", set()),
        ("mechanism=hazard", {"消防通道堵塞", "配电箱破损", "白兔村油库隐患"}),
        ("mechanism=demand", set()),
        ("division=XBTZ", {"白兔村油库隐患"}),
        ("unit=LZQ-YJJ", {"配电箱破损"}),
        ("category=fire", {"消防通道堵塞", "配电箱破损", "白兔村油库隐患"}),
        ("channel=grid", {"消防通道堵塞", "配电箱破损", "白兔村油库隐患"}),
        ("created_from=2026-11-05", {"白兔村油库隐患"}),
        ("created_to=2026-11-04", {"消防通道堵塞", "配电箱破损"}),
        ("overdue=1", set()),
        ("view=todo", set()),  # a leader may 立案 too, but the case waits for the dispatcher
    ],
)
def test_filters(client, world, cases, query, want):
    client.force_login(world.leader)
    with time_machine.travel(at(2026, 11, 6, 9), tick=False):
        response = client.get(f"/cases/?{query}")
    assert response.status_code == 200
    assert titles(response) == want


def test_todo_view_is_the_persons_work(client, world, cases):
    client.force_login(world.dispatcher)
    assert titles(client.get("/cases/?view=todo")) == {"消防通道堵塞"}
    client.force_login(world.handler)
    assert titles(client.get("/cases/?view=todo")) == {"配电箱破损"}
    client.force_login(world.outsider)
    assert titles(client.get("/cases/?view=todo")) == set()  # a grid worker reports; 立案 is not theirs


@pytest.mark.parametrize(
    "query, field, code",
    [
        ("created_from=2026-13-01", "created_from", "date_from_datetime_parsing"),
        ("created_from=2026-11-05&created_to=2026-11-01", "created_from", "invalid_range"),
        ("created_from=0001-01-01", "created_from", "date_out_of_range"),  # was a 500: no UTC midnight
        ("closed_to=9999-12-31", "closed_to", "date_out_of_range"),  # was a 500: no day after it
        ("unit=NOPE", "unit", "unknown_unit"),
        ("division=NOPE", "division", "unknown_division"),
        ("mechanism=nope", "mechanism", "unknown_mechanism"),
        ("sort=price", "sort", "invalid_choice"),
        ("view=all", "view", "invalid_choice"),
        ("page=x", "page", "invalid_number"),
    ],
)
def test_bad_filters_are_explained_in_place(client, world, cases, query, field, code):
    client.force_login(world.leader)
    response = client.get(f"/cases/?{query}")
    assert response.status_code == 400
    body = response.content.decode()
    assert f'data-field="{field}"' in body and role_alert(body)
    assert any(e.code.startswith(code[:10]) for e in response.context["query"].errors)
    assert client.get(f"/cases/export.xlsx?{query}").status_code == 400


def role_alert(body: str) -> bool:
    return 'role="alert"' in body


def test_sorting_and_paging(client, world):
    with time_machine.travel(at(2026, 11, 2, 9), tick=True):
        for i in range(30):
            report(world, title=f"隐患{i:02d}")
    client.force_login(world.leader)
    first = client.get("/cases/?sort=created")
    assert [r.case.title for r in first.context["rows"]][:2] == ["隐患00", "隐患01"]
    assert len(first.context["rows"]) == 25 and 'rel="next"' in first.content.decode()
    second = client.get("/cases/?sort=created&page=2")
    assert [r.case.title for r in second.context["rows"]] == [f"隐患{i}" for i in range(25, 30)]
    newest = client.get("/cases/?sort=-created")
    assert newest.context["rows"][0].case.title == "隐患29"


def test_htmx_request_gets_only_the_results(client, world, cases):
    client.force_login(world.leader)
    response = client.get("/cases/?q=配电箱", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    body = response.content.decode()
    assert "配电箱破损" in body and "<html" not in body


def test_list_query_count_is_bounded(client, world, django_assert_max_num_queries):
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        for i in range(40):
            case = report(world, title=f"隐患{i}")
            if i % 3 == 0:
                to_rectifying(world, case)
    client.force_login(world.leader)
    with django_assert_max_num_queries(30):
        assert client.get("/cases/?sort=due").status_code == 200


def test_export_has_the_columns_and_rows_of_the_list(client, world, cases):
    client.force_login(world.leader)
    with time_machine.travel(at(2026, 11, 6, 9), tick=False):
        response = client.get("/cases/export.xlsx?grade=larger")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(ws.values)
    assert rows[0][:4] == ("编号", "标题", "机制", "状态")
    assert [r[1] for r in rows[1:]] == ["配电箱破损"]
    assert rows[1][3] == "整改中" and rows[1][7] == "潞州区应急管理局"


def test_export_refuses_more_than_the_limit(client, world, cases, monkeypatch):
    monkeypatch.setattr(export_module, "EXPORT_LIMIT", 1)
    from taizhang.web.caselist import views

    monkeypatch.setattr(views, "EXPORT_LIMIT", 1)
    client.force_login(world.leader)
    response = client.get("/cases/export.xlsx")
    assert response.status_code == 400 and "超过单次导出上限" in response.content.decode()


def test_export_only_holds_what_the_person_may_see(client, world, cases):
    client.force_login(world.outsider)
    ws = load_workbook(io.BytesIO(b"".join(client.get("/cases/export.xlsx").streaming_content))).active
    assert [r[1] for r in list(ws.values)[1:]] == ["白兔村油库隐患"]
