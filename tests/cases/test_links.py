"""Linked cases: a transition that opens cases in another mechanism (`spawn`), the guard that waits for
them (`children_closed`), the children's progress on the parent, and who sees which link.

The test mechanism `tests/cases/mechanisms/campaign.yaml` (专项整治) opens hazard cases.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.link_views import links_of
from taizhang.cases.models import Case, CaseLink, CaseParty
from taizhang.cases.present import case_detail
from taizhang.cases.replay import compare
from taizhang.mechanisms.errors import MechanismError
from taizhang.mechanisms.registry import load_directory

from .helpers import act, at, error_of, fresh
from .packs import extra_mechanism

CAMPAIGN = Path(__file__).parent / "mechanisms" / "campaign.yaml"


@pytest.fixture(autouse=True)
def campaign_loaded(tmp_path):
    with time_machine.travel(at(2026, 4, 20, 10, 0), tick=False), extra_mechanism(tmp_path, CAMPAIGN):
        yield


def campaign(world, **kw) -> Case:
    data = dict(
        mechanism="campaign",
        title="五马街道电动车集中充电点消防专项整治",
        division=world.street.code,
        category="fire",
        channel="plan",
        address="五马街道",
        fields={"target": "电动车集中充电点"},
    )
    data.update(kw)
    case, _ = do_create_case(world.dispatcher, CaseInput(**data))
    return case


def launch(world, case, *units):
    return act(world.dispatcher, case, "launch", params={"units": [u.code for u in units]})


def children(case) -> list[Case]:
    return list(Case.objects.filter(parent_links__parent=case).order_by("number"))


def close_hazard(world, child, photo):
    act(world.handler if child.unit == world.safety_bureau else world.other_handler, child, "sign")
    worker = world.handler if child.unit == world.safety_bureau else world.other_handler
    act(worker, child, "rectified", attachments=[photo(worker)])
    act(world.verifier, child, "pass")


# -- spawn ----------------------------------------------------------------------------------------------


def test_launch_opens_a_hazard_case_per_unit_linked_both_ways(world):
    parent = campaign(world)
    launch(world, parent, world.safety_bureau, world.other_unit)
    kids = children(parent)
    assert [k.unit for k in kids] == [world.safety_bureau, world.other_unit]
    for kid in kids:
        assert kid.mechanism == "hazard" and kid.number.startswith("YH-2026-")
        assert (kid.state, kid.state_kind, kid.channel) == ("assigned", "waiting", "inspection")
        assert (kid.category, kid.grade, kid.division) == ("fire", "general", world.street)
        assert kid.title == parent.title and kid.reporter == world.dispatcher
        assert kid.data == {"hazard_place": "电动车集中充电点"}
        assert kid.due_at is not None  # 待签收 has its own limit, counted from now
        (create,) = kid.transitions.all()
        assert create.kind == "create" and create.name == "部署整治生成"
        assert create.changes["spawned_from"] == [None, parent.number]
        assert create.changes["link_kind"] == [None, "subtask"]
        assert create.changes["fields.hazard_place"] == [None, "电动车集中充电点"]
        assert create.changes["supervisor"] == [None, world.street.code]
    row = fresh(parent).transitions.order_by("-seq").first()
    assert row.code == "launch" and row.changes["spawned"] == [None, [k.number for k in kids]]
    assert set(CaseLink.objects.values_list("kind", flat=True)) == {"subtask"}


def test_spawned_cases_have_their_parties_and_work_as_hazards(world, photo):
    parent = campaign(world)
    launch(world, parent, world.safety_bureau)
    (kid,) = children(parent)
    parties = {(p.kind, p.division_id or p.unit_id) for p in CaseParty.objects.filter(case=kid)}
    assert parties == {
        ("place", world.street.pk),
        ("lead", world.safety_bureau.pk),
        ("supervisor", world.street.pk),
    }
    close_hazard(world, kid, photo)  # the street's verifier passes it: the body that opened it supervises
    assert fresh(kid).state == "closed"


def test_every_chain_still_verifies_and_replays(world, photo, capsys):
    parent = campaign(world)
    launch(world, parent, world.safety_bureau, world.other_unit)
    act(world.dispatcher, parent, "derive")
    close_hazard(world, children(parent)[0], photo)
    for case in Case.objects.select_related("division"):
        rows = list(case.transitions.order_by("seq"))
        assert compare(case, rows, [], None, case.state_kind) == [], case.number
    call_command("audit", "verify")
    assert "4 个案件，9 条流转记录" in capsys.readouterr().out


def test_derive_opens_one_unassigned_case_of_its_own_category_and_grade(world):
    parent = campaign(world)
    launch(world, parent, world.safety_bureau)
    act(world.dispatcher, parent, "derive")
    derived = Case.objects.get(parent_links__parent=parent, parent_links__kind="derived")
    assert (derived.unit, derived.state, derived.category, derived.grade) == (
        None,
        "reported",
        "gas",
        "major",
    )
    assert fresh(parent).state == "running"


@pytest.mark.parametrize(
    ("params", "code"),
    [({}, "required"), ({"units": ["NOPE"]}, "unknown_unit"), ({"units": [1, 2]}, "invalid")],
)
def test_a_refused_spawn_writes_nothing(world, params, code):
    parent = campaign(world)
    cases, version = Case.objects.count(), parent.version
    err = error_of(lambda: act(world.dispatcher, parent, "launch", params=params))
    assert err.status == 422 and err.errors[0].field == "params.units" and err.errors[0].code == code
    assert Case.objects.count() == cases and not CaseLink.objects.exists()
    assert (fresh(parent).state, fresh(parent).version) == ("planned", version)


# -- the guard ------------------------------------------------------------------------------------------


def test_finish_waits_for_every_child(world, photo):
    parent = campaign(world)
    launch(world, parent, world.safety_bureau, world.other_unit)
    first, second = children(parent)
    close_hazard(world, first, photo)
    err = error_of(lambda: act(world.dispatcher, parent, "finish"))
    assert (err.status, err.code) == (409, "children_open")
    assert second.number in err.message and first.number not in err.message
    assert fresh(parent).state == "running"
    close_hazard(world, second, photo)
    act(world.dispatcher, parent, "finish")
    assert fresh(parent).state == "closed"


def test_a_case_without_children_passes_the_guard(world):
    parent = campaign(world)
    parent.state, parent.state_kind = "running", "open"  # as if launched with nothing to open
    Case.objects.filter(pk=parent.pk).update(state="running", state_kind="open")
    act(world.dispatcher, parent, "finish")
    assert fresh(parent).state == "closed"


# -- progress and sight ---------------------------------------------------------------------------------


def test_progress_rolls_up_on_the_parent_page_and_api(world, photo, client):
    parent = campaign(world)
    launch(world, parent, world.safety_bureau, world.other_unit)
    close_hazard(world, children(parent)[0], photo)
    view = links_of(world.dispatcher, parent)
    assert len(view.children) == 2 and view.parents == []
    assert view.by_state_kind == {"open": 0, "waiting": 1, "controlled": 0, "parked": 0, "closed": 1}
    data = case_detail(world.dispatcher, fresh(parent))["links"]
    assert data["progress"] == {"total": 2, "by_state_kind": view.by_state_kind, "overdue": 0}
    assert {c["kind_name"] for c in data["children"]} == {"子任务"}
    client.force_login(world.dispatcher)
    page = client.get(f"/cases/{parent.number}/").content.decode()
    assert "下级案件" in page and children(parent)[1].number in page
    kid_page = client.get(f"/cases/{children(parent)[0].number}/").content.decode()
    assert "上级案件" in kid_page and parent.number in kid_page


def test_overdue_children_are_counted(world):
    parent = campaign(world)
    launch(world, parent, world.safety_bureau)
    Case.objects.filter(parent_links__parent=parent).update(overdue_since=at(2026, 4, 21, 10, 0))
    assert links_of(world.dispatcher, parent).overdue == 1


def test_links_show_only_cases_the_person_may_see(world):
    parent = campaign(world)
    launch(world, parent, world.safety_bureau, world.other_unit)
    # The water bureau's handler reads its own child, not the campaign nor the safety bureau's child.
    view = links_of(world.other_handler, children(parent)[1])
    assert view.parents == [] and view.children == []
    assert [c.number for c in links_of(world.handler, children(parent)[0]).parents] == []
    assert links_of(world.outsider, parent).children == []
    leader = links_of(world.leader, parent)  # the district's leader reads all of them
    assert len(leader.children) == 2


def test_api_detail_carries_links_for_staff(world):
    from taizhang.web.api.auth import issue_token

    parent = campaign(world)
    launch(world, parent, world.safety_bureau)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(world.dispatcher, '测试')}")
    body = api.get(f"/api/v1/cases/{parent.number}").json()
    assert body["links"]["progress"]["by_state_kind"]["waiting"] == 1
    (kid,) = body["links"]["children"]
    assert kid["kind"] == "subtask" and kid["mechanism_name"] == "安全隐患闭环"


# -- validation ---------------------------------------------------------------------------------------


def broken(tmp_path, old: str, new: str) -> str:
    directory = tmp_path / "broken"
    import shutil

    from django.conf import settings

    shutil.copytree(settings.TAIZHANG_MECHANISM_DIR, directory)
    text = (directory / "campaign.yaml").read_text(encoding="utf-8")
    assert old in text
    (directory / "campaign.yaml").write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(MechanismError) as info:
        load_directory(directory)
    return str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "mechanism: hazard\n",
            "mechanism: hazrd\n",
            "transitions[0].spawn[0].mechanism: 未知的机制 'hazrd'",
        ),
        ("channel: inspection\n", "channel: plan\n", "机制 'hazard'没有渠道 'plan'"),
        ("state: assigned", "state: closed", "新案件不能从终态 'closed' 开始"),
        ("fields: {hazard_place: target}", "fields: {place: target}", "没有表单字段 'place'"),
        ("fields: {hazard_place: target}", "fields: {hazard_place: tagret}", "未知的表单字段 'tagret'"),
        ("category: gas, grade: major", "category: water, grade: major", "没有类别 'water'"),
        ("  - {code: gas, name: 燃气安全}\n", "  - {code: water, name: 涉水}\n", "须写 category"),
    ],
)
def test_spawn_is_checked_when_loading(tmp_path, old, new, message):
    assert message in broken(tmp_path, old, new)


def test_verify_finds_a_link_the_history_does_not_record(world):
    from django.core.management.base import CommandError

    parent, other = campaign(world), campaign(world)
    launch(world, parent, world.safety_bureau)
    (kid,) = children(parent)
    CaseLink.objects.create(parent=other, child=kid, kind="related", created_at=at(2026, 4, 20, 11, 0))
    with pytest.raises(CommandError, match=f"案件关联与流转记录不符：{kid.number}"):
        call_command("audit", "verify")
    CaseLink.objects.filter(parent=other).delete()
    CaseLink.objects.filter(child=kid).update(kind="derived")
    with pytest.raises(CommandError, match=f"案件关联与流转记录不符：{kid.number}"):
        call_command("audit", "verify")


def test_the_case_page_offers_the_units_and_launches(world, client):
    parent = campaign(world)
    client.force_login(world.dispatcher)
    page = client.get(f"/cases/{parent.number}/").content.decode()
    assert 'name="params.units"' in page and world.other_unit.code in page
    refused = client.post(
        f"/cases/{parent.number}/act/", {"code": "launch", "version": fresh(parent).version}
    )
    assert "请选择承办单位" in refused.content.decode() and not children(parent)
    done = client.post(
        f"/cases/{parent.number}/act/",
        {
            "code": "launch",
            "version": fresh(parent).version,
            "params.units": [world.safety_bureau.code, world.other_unit.code],
        },
    )
    assert done.status_code in (200, 302)
    assert [k.unit for k in children(parent)] == [world.safety_bureau, world.other_unit]


def test_fields_are_copied_as_the_transition_leaves_them_and_checked(world):
    parent = campaign(world, fields={})
    act(
        world.dispatcher,
        parent,
        "launch",
        params={"units": [world.safety_bureau.code]},
        fields={"target": "充电桩"},
    )
    (kid,) = children(parent)
    assert kid.data == {"hazard_place": "充电桩"}
