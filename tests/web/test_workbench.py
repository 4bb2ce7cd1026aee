"""The front door and the 工作台: who lands where, the four panels, their counts and links, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from tests.cases.helpers import TZ, act, at, report, to_rectifying


def test_anonymous_sees_the_public_front_page(client, db):
    body = client.get("/").content.decode()
    assert "进入群众服务" in body and 'href="/login/"' in body
    assert client.get("/workbench/")["Location"].startswith("/login/")


def test_staff_land_on_the_workbench_and_residents_on_the_portal(client, world):
    client.force_login(world.dispatcher)
    assert client.get("/")["Location"] == "/workbench/"
    client.force_login(world.resident)
    assert client.get("/")["Location"] == "/portal/"
    assert client.get("/workbench/")["Location"] == "/portal/"


def counts(client) -> dict[str, int]:
    response = client.get("/workbench/")
    assert response.status_code == 200
    ctx = {s["key"]: s for s in response.context["sections"]}
    return {key: s["count"] for key, s in ctx.items()}


def test_todo_follows_the_case_from_role_to_role(client, world):
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        case = report(world)
        client.force_login(world.dispatcher)
        assert counts(client)["todo"] == 1
        client.force_login(world.handler)
        assert counts(client)["todo"] == 0
        act(world.dispatcher, case, "register")
        act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
        assert counts(client)["todo"] == 1  # 签收 waits for the unit
        client.force_login(world.dispatcher)
        assert counts(client)["todo"] == 0
        client.force_login(world.other_handler)
        assert counts(client)["todo"] == 0  # another unit's case is not my work
        client.force_login(world.inspector)
        assert counts(client)["todo"] == 0  # 催办 and 标记 are oversight, not waiting work


def test_pending_approval_is_the_approvers_todo_not_the_requesters(client, world, photo):
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        case = to_rectifying(world, report(world))
        act(world.handler, case, "extend", params={"extend_by": "3 工作日"}, opinion="材料未到货")
        client.force_login(world.leader)
        assert counts(client)["todo"] >= 1
        client.force_login(world.handler)
        body = client.get("/cases/?view=todo").content.decode()
        assert case.number in body  # the unit still has the rectification to do


def test_due_overdue_and_recent_panels(client, world):
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        soon = to_rectifying(world, report(world, title="即将到期"))
        late = to_rectifying(world, report(world, title="已经超期"))
        old = report(world, title="很久以前")
    with time_machine.travel(at(2026, 11, 10, 9), tick=False):
        from taizhang.cases.models import Case

        Case.objects.filter(pk=soon.pk).update(due_at=at(2026, 11, 10, 20))
        Case.objects.filter(pk=late.pk).update(due_at=at(2026, 11, 9, 9), overdue_since=at(2026, 11, 9, 9))
        Case.objects.filter(pk=old.pk).update(updated_at=at(2026, 11, 1, 9))
        client.force_login(world.handler)
        response = client.get("/workbench/")
        sections = {s["key"]: s for s in response.context["sections"]}
        assert [r.case.title for r in sections["due"]["rows"]] == ["即将到期"]
        assert [r.case.title for r in sections["overdue"]["rows"]] == ["已经超期"]
        assert sections["overdue"]["rows"][0].clock.css == "overdue"
        assert "已超期1天" in response.content.decode()
        client.force_login(world.dispatcher)
        recent = {s["key"]: s for s in client.get("/workbench/").context["sections"]}["recent"]
        assert "很久以前" not in [r.case.title for r in recent["rows"]]


@pytest.mark.parametrize("section", ["todo", "due", "overdue", "recent"])
def test_every_count_links_to_a_list_with_the_same_number(client, world, section):
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        for i in range(3):
            report(world, title=f"隐患{i}")
        case = to_rectifying(world, report(world, title="整改中"))
        from taizhang.cases.models import Case

        Case.objects.filter(pk=case.pk).update(due_at=at(2026, 11, 2, 20))
        for persona in ("dispatcher", "handler", "leader"):
            client.force_login(getattr(world, persona))
            s = {s["key"]: s for s in client.get("/workbench/").context["sections"]}[section]
            listed = client.get(s["url"])
            assert listed.status_code == 200
            assert listed.context["page"].paginator.count == s["count"], (persona, section)


def test_workbench_query_count_is_bounded(client, world, django_assert_max_num_queries):
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        for i in range(30):
            case = report(world, title=f"隐患{i}")
            if i % 2:
                to_rectifying(world, case)
        client.force_login(world.leader)
        with django_assert_max_num_queries(30):
            assert client.get("/workbench/").status_code == 200


def test_clock_is_in_the_mechanisms_unit(client, world):
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        to_rectifying(world, report(world))
    with time_machine.travel(at(2026, 11, 3, 9), tick=False):
        client.force_login(world.handler)
        body = client.get("/workbench/").content.decode()
        assert "个工作日" in body


def test_login_keeps_the_username_on_error_and_signs_in(client, world):
    response = client.post("/login/", {"username": "wangge", "password": "wrong"})
    body = response.content.decode()
    assert response.status_code == 200 and "用户名或密码不正确" in body and 'value="wangge"' in body
    response = client.post("/login/", {"username": "wangge", "password": "pw-wangge"}, follow=True)
    assert "韩晓晴" in response.content.decode() and response.redirect_chain[-1][0] == "/workbench/"


def test_admin_case_pages_are_read_only(client, world):
    case = report(world)
    world.leader.is_staff = world.leader.is_superuser = True
    world.leader.save()
    client.force_login(world.leader)
    assert client.get(f"/admin/cases/case/{case.pk}/change/").status_code == 200
    assert client.post(f"/admin/cases/case/{case.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/org/division/").status_code == 200


def test_english_is_switchable(client, world):
    client.force_login(world.dispatcher)
    client.post("/i18n/setlang/", {"language": "en", "next": "/workbench/"})
    body = client.get("/workbench/").content.decode()
    assert 'lang="en"' in body


_ = (TZ, timedelta)
