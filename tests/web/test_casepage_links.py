"""关联 by hand on the case page: the form in the links panel for whoever may link (the rule of
`links.check_link`), linking and unlinking through `/cases/<ref>/links/` with a redirect back to the panel,
each refusal's reason on the page with nothing written, 404 for a case not seen, and few more queries."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from taizhang.cases.links import do_link
from taizhang.cases.models import CaseLink, Transition
from taizhang.org.models import User
from tests.cases.helpers import at, report


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(2026, 4, 20, 10, 0), tick=False):
        yield


@pytest.fixture
def two(world):
    return report(world, title="楼道堆放杂物"), report(world, title="同一楼道电动车充电")


def page(client, user, case):
    client.force_login(user)
    return client.get(f"/cases/{case.number}/")


def link(client, user, case, other, **data):
    client.force_login(user)
    return client.post(f"/cases/{case.number}/links/", {"other": other, **data})


def related(response) -> list[str]:
    return [c.number for c in response.context["links"].related]


def test_the_form_shows_only_to_who_may_link(client, world, two):
    a, _ = two
    shown = page(client, world.dispatcher, a)
    assert shown.context["link_form"].allowed and 'id="link-form"' in shown.content.decode()
    admin = User.objects.create_superuser(username="linkform-admin", password="pw")  # sees, holds no role
    refused = page(client, admin, a)
    assert refused.status_code == 200 and not refused.context["link_form"].allowed
    assert 'id="link-form"' not in refused.content.decode()
    mine = report(world, world.resident, channel="resident", title="我家楼道")
    public = page(client, world.resident, mine)  # the reporter's public view: no panel at all
    assert public.context["link_form"] is None and 'id="link-form"' not in public.content.decode()


def test_link_and_unlink_through_the_page(client, world, two):
    a, b = two
    response = link(client, world.dispatcher, a, f" {b.number} ", opinion="同一楼道")
    assert response.status_code == 302 and response["Location"] == f"/cases/{a.number}/#links"
    assert CaseLink.objects.filter(parent=a, child=b, kind="related").exists()
    assert Transition.objects.get(case=a, kind="link").opinion == "同一楼道"
    shown = client.get(response["Location"])
    assert related(shown) == [b.number] and f"已关联 {b.number}" in shown.content.decode()
    assert "相关案件" in shown.content.decode() and "取消关联" in shown.content.decode()
    other_side = page(client, world.dispatcher, b)  # linked from a: b's page lists it, unlinks it not
    assert related(other_side) == [a.number] and "取消关联" not in other_side.content.decode()
    response = link(client, world.dispatcher, a, b.number, unlink="1")
    assert response.status_code == 302 and not CaseLink.objects.exists()
    shown = client.get(response["Location"])
    assert related(shown) == [] and f"已取消关联 {b.number}" in shown.content.decode()


@pytest.mark.parametrize(
    ("what", "status", "message"),
    [
        ("empty", 422, "请填写要关联的案件编号"),
        ("self", 422, "不能关联案件自身"),
        ("unseen", 404, "找不到该案件或无权查看"),
        ("already", 409, "已与本案件关联"),
        ("not_linked", 409, "本案件没有由此关联的案件"),
    ],
)
def test_each_refusal_shows_its_reason_and_writes_nothing(client, world, two, what, status, message):
    a, b = two
    if what == "already":
        do_link(world.dispatcher, a.pk, b.number)
    elsewhere = report(world, world.outsider, division=world.other_grid.code, title="西白兔镇隐患")
    other, data = {
        "empty": ("", {}),
        "self": (a.number, {}),
        "unseen": (elsewhere.number, {}),
        "already": (b.number, {}),
        "not_linked": (b.number, {"unlink": "1"}),
    }[what]
    links, rows = CaseLink.objects.count(), Transition.objects.count()
    response = link(client, world.dispatcher, a, other, opinion="看看", **data)
    assert response.status_code == status
    assert response.context["case"] == a and message in response.context["link_form"].message
    body = response.content.decode()
    assert 'id="link-error"' in body and message in body and "看看" in body  # the input kept
    assert (CaseLink.objects.count(), Transition.objects.count()) == (links, rows)


def test_who_may_not_link_is_told_why(client, world):
    mine, also = (report(world, world.resident, channel="resident", title=t) for t in ("楼道", "车库"))
    response = link(client, world.resident, mine, also.number)  # sees both, holds no staff role
    assert response.status_code == 403 and "您的岗位不能关联本案件" in response.content.decode()
    assert not CaseLink.objects.exists()


def test_a_resident_or_outsider_gets_404(client, world, two):
    a, b = two
    for who in (world.resident, world.outsider):
        assert link(client, who, a, b.number).status_code == 404
        assert page(client, who, a).status_code == 404
    assert not CaseLink.objects.exists() and not Transition.objects.filter(kind="link").exists()


def test_get_is_refused_and_anonymous_is_sent_to_login(client, world, two):
    a, b = two
    assert client.post(f"/cases/{a.number}/links/", {"other": b.number}).status_code == 302  # to login
    client.force_login(world.dispatcher)
    assert client.get(f"/cases/{a.number}/links/").status_code == 405
    assert not CaseLink.objects.exists()


def test_the_form_costs_at_most_two_queries(client, world, two, monkeypatch):
    """The same person's page with and without the check and the form (the case has a 关联 case)."""
    a, b = two
    do_link(world.dispatcher, a.pk, b.number)
    client.force_login(world.dispatcher)

    def count() -> tuple[int, str]:
        client.get(f"/cases/{a.number}/")  # session and caches warm
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/cases/{a.number}/")
        return len(ctx.captured_queries), response.content.decode()

    with_form, body = count()
    monkeypatch.setattr("taizhang.web.casepage.page.may_link", lambda user, case: False)
    without, plain = count()
    assert 'id="link-form"' in body and 'id="link-form"' not in plain
    assert with_form - without <= 2
