"""关联 by hand: whoever sees two cases and holds a staff role on the first links them as `related`, and may
end the link; both cases' histories record each step (an unlink is a new row), the link table follows,
`taizhang audit verify` replays it, and a related case never holds up `children_closed`."""

from __future__ import annotations

import json

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from taizhang.cases.link_views import links_of
from taizhang.cases.links import check_children_closed, do_link
from taizhang.cases.models import Case, CaseLink
from taizhang.cases.present import case_detail
from taizhang.mechanisms.registry import get_mechanism

from .helpers import act, at, error_of, fresh, report


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(2026, 4, 20, 10, 0), tick=False):
        yield


def two(world) -> tuple[Case, Case]:
    return report(world, title="楼道堆放杂物"), report(world, title="同一楼道电动车充电")


def rows(case, kind="link") -> list:
    return list(fresh(case).transitions.filter(kind=kind).order_by("seq"))


def test_link_and_unlink_are_recorded_on_both_cases(world, capsys):
    a, b = two(world)
    do_link(world.dispatcher, a.pk, b.number, opinion="同一楼道")
    link = CaseLink.objects.get()
    assert (link.parent, link.child, link.kind) == (a, b, "related")
    (on_a,), (on_b,) = rows(a), rows(b)
    assert (on_a.code, on_a.changes, on_a.actor, on_a.opinion) == (
        "link",
        {"related_to": [None, b.number]},
        world.dispatcher,
        "同一楼道",
    )
    assert on_b.changes == {"related_from": [None, a.number]} and not on_a.public
    assert (fresh(a).state, fresh(b).state) == ("reported", "reported")
    do_link(world.dispatcher, a.number, b.number, unlink=True)
    assert not CaseLink.objects.exists()
    assert [r.code for r in rows(a)] == ["link", "unlink"] and rows(b)[-1].changes == {
        "related_from": [a.number, None]
    }
    do_link(world.dispatcher, a.pk, b.number)  # linked again: a third row on each side
    assert len(rows(a)) == len(rows(b)) == 3 and CaseLink.objects.count() == 1
    call_command("audit", "verify")
    assert "2 个案件" in capsys.readouterr().out


def test_verify_finds_a_hand_link_the_history_does_not_record(world):
    from django.core.management.base import CommandError

    a, b = two(world)
    do_link(world.dispatcher, a.pk, b.number)
    CaseLink.objects.all().delete()  # behind the platform's back
    with pytest.raises(CommandError):
        call_command("audit", "verify")


def test_the_links_show_on_both_pages(world):
    a, b = two(world)
    do_link(world.dispatcher, a.pk, b.number)
    # 关联 is a peer on both pages: neither parent nor child, and no part of the progress.
    on_a, on_b = links_of(world.dispatcher, fresh(a)), links_of(world.dispatcher, fresh(b))
    assert [c.number for c in on_a.related] == [b.number] and not on_a.children and not on_a.parents
    assert [(c.number, c.kind_name) for c in on_b.related] == [(a.number, "关联")] and not on_b.parents
    mine = report(world, world.resident, channel="resident", title="我家楼道")
    do_link(world.dispatcher, a.pk, mine.number)
    public = case_detail(world.resident, fresh(mine))  # the reporter's public view
    assert "links" not in public and all("related_from" not in r["changes"] for r in public["history"])


def test_refusals(world):
    a, b = two(world)
    other = report(world, world.outsider, division=world.other_grid.code, title="西白兔镇隐患")
    assert error_of(lambda: do_link(world.dispatcher, a.pk, other.number)).status == 404  # not seen
    assert error_of(lambda: do_link(world.dispatcher, a.pk, "YH-2099-999999")).status == 404
    assert error_of(lambda: do_link(world.resident, a.pk, b.number)).status == 404
    mine, also = (report(world, world.resident, channel="resident", title=t) for t in ("楼道", "车库"))
    err = error_of(lambda: do_link(world.resident, mine.pk, also.number))  # sees both, no staff role
    assert (err.status, err.code) == (403, "role_not_allowed")
    assert error_of(lambda: do_link(world.dispatcher, a.pk, a.number)).errors[0].code == "link_self"
    assert error_of(lambda: do_link(world.dispatcher, a.pk, b.number, unlink=True)).code == "not_linked"
    do_link(world.dispatcher, a.pk, b.number)
    assert error_of(lambda: do_link(world.dispatcher, b.pk, a.number)).code == "already_linked"
    assert error_of(lambda: do_link(world.dispatcher, b.pk, a.number, unlink=True)).code == "not_linked"
    assert len(rows(a)) == 1 and len(rows(b)) == 1  # nothing written by a refusal


def test_a_related_case_does_not_hold_up_children_closed(world):
    a, b = two(world)
    do_link(world.dispatcher, a.pk, b.number)
    t = get_mechanism("hazard").transitions["register"].model_copy(update={"children_closed": True})
    check_children_closed(fresh(a), t)  # b is open, but a peer


def test_api_links_and_unlinks(world):
    a, b = two(world)
    client = Client()
    client.force_login(world.dispatcher)

    def post(ref, **body):
        return client.post(f"/api/v1/cases/{ref}/links", json.dumps(body), content_type="application/json")

    response = post(a.number, other=b.number)
    assert response.status_code == 200
    links = response.json()["links"]
    assert [c["number"] for c in links["related"]] == [b.number]
    assert links["children"] == [] and links["progress"]["total"] == 0  # a peer, no part of the work
    assert post(a.number, other=b.number).json()["code"] == "already_linked"
    assert post(a.number, other=b.number, unlink=True).status_code == 200
    assert post(a.number, other="").json()["code"] == "invalid"
    act(world.dispatcher, a, "register")  # an ordinary step after the links still verifies
    call_command("audit", "verify")
