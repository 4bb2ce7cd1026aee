"""/replies/ (答复质量): who may open it, the summary, the filters in the URL, bad input in place, pages, the
menu entry and the dashboard's link; the rows are those of /api/v1/replies/quality.

The answers (now = 2026-11-24 10:00):
good   五马 grid, answered GOOD on 11-24 by 应急管理局
weak   五马 grid, answered FORWARD on 11-24 by 应急管理局 (weak)
far    白兔村 grid, answered VAGUE on 11-24 by 应急管理局 (weak; outside the 五马街道 dispatcher's area)
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from taizhang.org.models import Membership, User
from tests.api.conftest import PERSONAS, ApiClient, frozen  # noqa: F401  (the fixture, re-exported)
from tests.insight.test_reply_quality import FORWARD, GOOD, VAGUE, demand, replied

URL = "/replies/"
ALLOWED = {"dispatcher": 2, "leader": 3, "inspector": 3}


@pytest.fixture(autouse=True)
def _frozen_clock(frozen):  # noqa: F811
    yield frozen


@pytest.fixture
def scored(world):
    good = replied(world, demand(world), GOOD)
    weak = replied(world, demand(world, title="幸福路路灯不亮", description="幸福路路灯坏了一周。"), FORWARD)
    far = demand(world, division=world.other_grid.code, user=world.leader)
    replied(world, far, VAGUE, world.leader)
    return {"good": good, "weak": weak, "far": far}


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


def numbers(response) -> list[str]:
    return [r["number"] for r in response.context["rows"]]


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_open_the_page(client, world, scored, persona):
    response = get(client, getattr(world, persona))
    body = response.content.decode()
    if persona in ALLOWED:
        assert response.status_code == 200
        assert response.context["result"]["summary"]["answers"] == ALLOWED[persona] == len(numbers(response))
        assert 'aria-current="page">答复质量' in body  # the menu entry, current
    else:
        assert response.status_code == 403
        assert "答复质量仅供督办人员、领导和纪委监督查看" in body
        assert f'href="{URL}"' not in body  # no menu entry


def test_anonymous_goes_to_login_and_a_superuser_sees_everything(client, world, scored):
    assert client.get(URL)["Location"].startswith("/login/")
    admin = User.objects.create_superuser("root", password="pw-root")
    assert get(client, admin).context["result"]["summary"]["answers"] == 3


def test_a_leader_elsewhere_sees_only_the_answers_of_their_area(client, world, scored):
    other = User.objects.create_user(username="baitu", password="pw-baitu", display_name="白兔镇领导")
    Membership.objects.create(user=other, role="leader", division=world.other_street)
    assert numbers(get(client, other)) == [scored["far"].number]


def test_summary_rows_and_links_are_those_of_the_api(client, world, scored):
    response = get(client, world.leader)
    page = response.context["result"]
    api = ApiClient()
    api.client.force_login(world.leader)
    assert page == {**api.get("/replies/quality").json(), "items": page["items"]}  # the same query
    assert page["summary"]["answers"] == 3 and page["summary"]["weak"] == 2
    body = response.content.decode()
    for case in scored.values():
        assert f'href="/cases/{case.number}/"' in body
    assert body.count('<span class="badge weak">弱答复</span>') == 2
    assert "答复无实质内容（仅受理、转办或客套）" in body
    assert f"{page['summary']['average']:.2f}" in body


def test_filters_weak_order_unit_and_dates(client, world, scored):
    weak, good, far = scored["weak"].number, scored["good"].number, scored["far"].number
    only_weak = get(client, world.dispatcher, weak="1")
    assert numbers(only_weak) == [weak] and only_weak.context["query"].weak is True
    assert 'name="weak" value="1" checked' in only_weak.content.decode()
    weakest = numbers(get(client, world.leader, order="weakest"))
    assert weakest[-1] == good and set(weakest[:2]) == {weak, far}
    assert numbers(get(client, world.leader, unit=world.safety_bureau.code, weak="0")) == [good]
    assert numbers(get(client, world.leader, unit=world.other_unit.code)) == []
    village = get(client, world.leader, division=world.other_grid.code)
    assert (
        numbers(village) == [far]
        and f'<option value="{world.other_grid.code}" selected>' in village.content.decode()
    )
    today = frozen_day()
    assert len(numbers(get(client, world.leader, **{"from": today, "to": today}))) == 3  # `to` included
    tomorrow = (frozen_day(as_date=True) + timedelta(days=1)).isoformat()
    yesterday = (frozen_day(as_date=True) - timedelta(days=1)).isoformat()
    assert numbers(get(client, world.leader, **{"from": tomorrow})) == []
    assert numbers(get(client, world.leader, to=yesterday)) == []
    response = get(client, world.leader, **{"from": today, "order": "weakest"})
    assert (
        f'value="{today}"' in response.content.decode()
        and "selected>综合分最低在前" in response.content.decode()
    )


def frozen_day(as_date: bool = False):
    from tests.api.conftest import FROZEN_AT

    day = FROZEN_AT.date()
    return day if as_date else day.isoformat()


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"from": "2026-13-01"}, "from", "开始日期须为 YYYY-MM-DD 格式的日期：2026-13-01"),
        ({"to": "昨天"}, "to", "截止日期须为 YYYY-MM-DD 格式的日期：昨天"),
        ({"from": "2026-11-24", "to": "2026-11-01"}, "from", "开始日期不能晚于截止日期"),
        ({"from": "0001-01-01"}, "from", "开始日期：日期须在 1900-01-01 至 2999-12-31 之间"),  # was a 500
        ({"order": "best"}, "order", "无效的排序方式：best"),
        ({"weak": "maybe"}, "weak", "weak 须为 1 或 0：maybe"),
        ({"page": "0"}, "page", "页码须为正整数"),
        ({"unit": "NOPE"}, "unit", "没有编码为 NOPE 的单位"),
        ({"division": "NOPE"}, "division", "没有编码为 NOPE 的区划"),
    ],
)
def test_bad_filters_are_400_with_the_reason_in_place(client, world, scored, params, field, message):
    response = get(client, world.leader, **params)
    assert response.status_code == 400
    body = response.content.decode()
    assert f'<li data-field="{field}"' in body and message in body and "筛选条件有误" in body
    assert response.context["result"] is None and 'id="reply-table"' not in body
    assert 'id="r-unit"' in body  # the filters stay on the page to correct


def test_a_resident_with_bad_filters_is_still_refused(client, world):
    assert get(client, world.resident, order="best").status_code == 403


def test_htmx_gets_the_results_alone(client, world, scored):
    client.force_login(world.leader)
    response = client.get(URL, {"weak": "1"}, headers={"HX-Request": "true", "HX-Target": "results"})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="reply-table"' in body and "<form" not in body


def test_pages(client, world, scored, monkeypatch):
    monkeypatch.setattr("taizhang.web.replies.views.PAGE_SIZE", 2)
    first = get(client, world.leader, order="weakest")
    assert len(numbers(first)) == 2 and first.context["pages"] == 2
    body = first.content.decode()
    assert 'href="?order=weakest&amp;page=2" rel="next"' in body and "第 1 / 2 页" in body
    second = get(client, world.leader, order="weakest", page="2")
    assert numbers(second) == [scored["good"].number]
    assert 'href="?order=weakest&amp;page=1" rel="prev"' in second.content.decode()
    assert numbers(get(client, world.leader, page="9")) == []  # past the end: empty, not an error


def test_queries_do_not_grow_with_the_rows(client, world, scored, django_assert_max_num_queries):
    for user in (world.leader, world.dispatcher, world.inspector):
        client.force_login(user)
        with django_assert_max_num_queries(8):
            response = client.get(URL, {"unit": world.safety_bureau.code, "weak": "1"})
        assert response.status_code == 200
    for _ in range(3):
        replied(world, demand(world, title="又一件路灯不亮", description="路灯又坏了。"), FORWARD)
    with django_assert_max_num_queries(8):
        assert client.get(URL, {"unit": world.safety_bureau.code}).status_code == 200


def test_the_dashboard_links_supervisors_to_the_page(client, world, scored):
    client.force_login(world.leader)
    body = client.get("/dashboard/").content.decode()
    link = f'href="{URL}?from='
    assert link in body
    intake = User.objects.create_user(username="shouli", password="pw-shouli", display_name="受理员")
    Membership.objects.create(user=intake, role="intake", division=world.street)
    client.force_login(intake)
    response = client.get("/dashboard/")
    assert response.status_code == 200 and link not in response.content.decode()
    assert get(client, intake).status_code == 403
