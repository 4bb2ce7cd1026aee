"""Similar open cases at intake (并单 suggestions) and residents' "me too" (我也遇到)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from taizhang.cases.actions import TransitionRequest, do_transition
from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.hashchain import verify_case
from taizhang.cases.models import Case
from taizhang.insight import actions
from taizhang.insight.actions import do_metoo, find_similar, supported_q
from taizhang.insight.models import CaseSupporter, CaseTerm, CaseTokens, TermCount
from taizhang.insight.text import places, terms
from tests.api.conftest import ApiClient

NOISE = "小区门口垃圾桶满了没人清理"
SHOP = "丽发新城小区附近建搅拌站，噪音扰民，粉尘污染严重"


def demand(world, title: str, user=None, division=None, description: str = "", **kw) -> Case:
    data = CaseInput(
        mechanism="demand",
        title=title,
        description=description,
        division=(division or world.grid).code,
        category="complaint",
        channel="hotline",
        **kw,
    )
    case, _ = do_create_case(user or world.dispatcher, data)
    return case


@pytest.fixture
def filler(world, frozen):
    """Unrelated demands, so that document frequencies mean something."""
    titles = [
        "幸福路路灯不亮晚上出行不便",
        "和心社区楼道堆放杂物",
        "五马街道菜市场占道经营",
        "咨询公积金贷款政策",
        "学校门口交通拥堵",
        "广场舞音响声音太大扰民",
        "小区电梯经常故障",
        "自来水水质发黄",
        "建设路下水道堵塞污水横流",
        "公交车班次太少等车时间长",
    ]
    return [demand(world, t) for t in titles]


def test_tokens_and_places_read_chinese_text():
    words = terms("丽发新城附近建搅拌站噪音扰民", "请相关部门处理")
    assert {"搅拌站", "噪音"} <= set(words) and words["搅拌站"] == 2  # title words count double
    assert "相关部门" not in words and "请" not in words
    assert {"春华镇", "金鼎村"} <= places("反映A7县春华镇金鼎村水泥路、自来水到户的问题")
    assert "水泥路" not in places("反映A7县春华镇金鼎村水泥路")
    assert places("A3区联丰路米兰春天G2栋") >= {"联丰路"}


def test_a_case_is_indexed_when_created(world, frozen):
    case = demand(world, SHOP, address="暮云街道丽发新城小区")
    row = CaseTokens.objects.get(case=case)
    assert "搅拌站" in row.terms and "丽发新城" in row.places
    assert CaseTerm.objects.filter(case=case, term="@丽发新城").exists()
    assert TermCount.objects.get(scope=f"{case.region}:demand", term="").df == 1


def test_same_problem_same_place_scores_high_and_other_place_lower(world, filler):
    first = demand(world, SHOP, description="丽发新城小区旁边修建搅拌站，每天噪音和粉尘。")
    same = demand(world, "丽发新城小区旁建搅拌厂噪音粉尘扰民", description="丽发新城附近搅拌站太吵。")
    elsewhere = demand(
        world, "翡翠林居小区附近建搅拌站，噪音扰民，粉尘污染严重", world.leader, world.other_grid
    )
    other = demand(world, "丽发新城小区电梯经常故障困人")
    found = {s.case.pk: s for s in find_similar(world.leader, first, threshold=0.0, limit=20)}
    assert found[same.pk].score >= 0.6
    assert any("丽发新城" in r for r in found[same.pk].reasons)
    assert elsewhere.pk in found and found[elsewhere.pk].score < found[same.pk].score
    assert other.pk not in {s.case.pk for s in find_similar(world.leader, first)}  # below the threshold
    default = [s.case.pk for s in find_similar(world.leader, first)]
    assert default[0] == same.pk


def test_a_different_problem_is_not_suggested(world, filler):
    case = demand(world, NOISE)
    demand(world, "咨询新生儿落户需要哪些材料")
    assert find_similar(world.leader, case) == []


def test_closed_and_old_cases_are_left_out(world, filler, frozen):
    old = demand(world, SHOP)
    frozen.shift(timedelta(days=31))
    closed = demand(world, SHOP)
    Case.objects.filter(pk=closed.pk).update(state="invalid", state_kind="closed")
    fresh = demand(world, SHOP)
    case = demand(world, "丽发新城小区附近搅拌站噪音扰民")
    found = [s.case.pk for s in find_similar(world.leader, case)]
    assert found == [fresh.pk]
    assert old.pk in [s.case.pk for s in find_similar(world.leader, case, days=40)]


def test_only_cases_the_caller_sees(world, filler):
    mine = demand(world, SHOP, user=world.grid_worker)
    theirs = demand(world, SHOP, user=world.outsider, division=world.other_grid)
    assert [s.case.pk for s in find_similar(world.grid_worker, mine)] == []
    assert [s.case.pk for s in find_similar(world.leader, mine)] == [theirs.pk]
    api = ApiClient()
    api.client.force_login(world.outsider)
    assert api.get(f"/cases/{mine.number}/similar").status_code == 404
    body = api.get(f"/cases/{theirs.number}/similar").json()
    assert body == []


def test_api_lists_suggestions_with_score_and_reasons(world, filler):
    first = demand(world, SHOP)
    second = demand(world, SHOP)
    api = ApiClient()
    api.client.force_login(world.dispatcher)
    response = api.get(f"/cases/{second.number}/similar", {"limit": 3})
    assert response.status_code == 200
    [item] = response.json()
    assert item["number"] == first.number and item["score"] > 0.9
    assert item["state"] == "accepted" and item["state_name"] == "待派单"
    assert item["reasons"][0].startswith("文字相似度")
    assert api.get(f"/cases/{second.number}/similar", {"limit": 0}).status_code == 422


def test_query_count_does_not_grow_with_cases(world, filler):
    case = demand(world, SHOP)

    def count() -> int:
        world.dispatcher.__dict__.pop("_taizhang_grants", None)
        with CaptureQueriesContext(connection) as ctx:
            find_similar(world.dispatcher, case)
        return len(ctx.captured_queries)

    few = count()
    for i in range(15):
        demand(world, f"{SHOP}（第{i}次反映）")
    assert count() == few <= 7


def test_metoo_adds_a_supporter_once(world, frozen):
    from taizhang.org.models import Membership, User

    neighbour = User.objects.create_user(username="linju", password="x", display_name="邻居")
    Membership.objects.create(user=neighbour, role="resident")
    case = demand(world, SHOP, user=neighbour)
    api = ApiClient()
    api.client.force_login(world.resident)
    first = api.post(f"/cases/{case.number}/metoo")
    assert first.status_code == 201 and first.json() == {
        "number": case.number,
        "supporters": 1,
        "created": True,
    }
    again = api.post(f"/cases/{case.number}/metoo")
    assert again.status_code == 200 and again.json()["created"] is False
    assert CaseSupporter.objects.filter(case=case, user=world.resident).count() == 1
    assert Case.objects.filter(supported_q(world.resident)).get() == case
    # The new supporter is a change of the case: one history row, chained like any other.
    case.refresh_from_db()
    rows = list(case.transitions.order_by("seq"))
    assert [(r.kind, r.code) for r in rows] == [("create", "create"), ("support", "metoo")]
    row = rows[-1]
    assert row.actor == world.resident and row.changes == {"supporters": [0, 1]}
    assert row.from_state == row.to_state == case.state and case.version == row.seq
    assert verify_case(case) is None
    # Its reporter sees the row by role, not the supporter's name; the supporter does not see the case.
    reporter = ApiClient()
    reporter.client.force_login(neighbour)
    history = reporter.get(f"/cases/{case.number}").json()["history"]
    assert api.get(f"/cases/{case.number}").status_code == 404
    assert history[-1]["code"] == "metoo" and history[-1]["actor"] != world.resident.display_name


def test_metoo_on_a_ref_of_non_ascii_digits_is_404(world, frozen):
    """The string "²" passes isdigit(), yet int("²") fails: this was a 500."""
    api = ApiClient()
    api.client.force_login(world.resident)
    assert api.post("/cases/²/metoo").status_code == 404


def test_metoo_retries_when_staff_act_at_the_same_moment(world, frozen, monkeypatch):
    case = demand(world, SHOP, user=world.grid_worker)
    real = actions.public_cases
    calls = []

    class ReadThenStaffAct:
        """`public_cases()` whose read is followed by an inspector's action on the case."""

        def filter(self, **lookup):
            self.found = real().filter(**lookup).first()
            return self

        def first(self):
            if not calls:  # an inspector's action lands after the resident's request read the case
                calls.append(1)
                do_transition(
                    world.inspector, case.pk, TransitionRequest(code="flag", opinion="群众反映集中，请关注")
                )
            return self.found

    monkeypatch.setattr(actions, "public_cases", ReadThenStaffAct)
    _row, supporters, created = do_metoo(world.resident, case.number)
    case.refresh_from_db()
    codes = [r.code for r in case.transitions.order_by("seq")]
    assert created and supporters == 1 and codes[-1] == "metoo" and "flag" in codes
    assert CaseSupporter.objects.filter(case=case).count() == 1 and verify_case(case) is None


def test_metoo_refusals(world, frozen):
    api = ApiClient()
    api.client.force_login(world.resident)
    own = demand(world, SHOP, user=world.resident)
    assert api.post(f"/cases/{own.number}/metoo").json()["code"] == "own_case"
    closed = demand(world, SHOP)
    Case.objects.filter(pk=closed.pk).update(state="closed", state_kind="closed")
    assert api.post(f"/cases/{closed.number}/metoo").status_code == 409
    assert api.post("/cases/SQ-2026-999999/metoo").status_code == 404
    staff = ApiClient()
    staff.client.force_login(world.dispatcher)
    assert staff.post(f"/cases/{closed.number}/metoo").status_code == 403
    assert ApiClient().post(f"/cases/{closed.number}/metoo").status_code == 401


def test_backfill_command_indexes_unindexed_cases(world, filler):
    from django.core.management import call_command

    CaseTokens.objects.all().delete()
    call_command("similar_index", "--batch", "4")
    assert CaseTokens.objects.count() == Case.objects.count() == len(filler)


def test_indexing_writes_tokens_postings_and_counts_together_or_not_at_all(world, filler, monkeypatch):
    from taizhang.insight import similar

    CaseTokens.objects.all().delete()
    CaseTerm.objects.all().delete()
    counts = dict(TermCount.objects.values_list("term", "df"))

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(similar, "add_counts", broken)
    with pytest.raises(RuntimeError), transaction.atomic():  # a caller's savepoint, as intake's hook has
        similar.index_cases(Case.objects.all())
    assert not CaseTokens.objects.exists() and not CaseTerm.objects.exists()
    assert dict(TermCount.objects.values_list("term", "df")) == counts
    monkeypatch.undo()
    assert similar.index_cases(Case.objects.all()) == len(filler)
    row = CaseTokens.objects.get(case=filler[0])
    assert row.created_at == filler[0].created_at and row.terms  # times and JSON as the ORM writes them
    assert (
        CaseTerm.objects.filter(case=filler[0], created_at=filler[0].created_at).count()
        >= len(row.terms) // 2
    )
