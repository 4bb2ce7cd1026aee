"""Reply quality (答复质量): scoring answers, flagging the weak, storing at the reply, who may read it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from taizhang.cases.actions import TransitionRequest, do_transition
from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Case, Transition
from taizhang.errors import ActionError
from taizhang.insight.models import ReplyQuality
from taizhang.insight.replies import ReplyScorer
from taizhang.insight.reply_index import reply_quality_list, rescore, score_answer
from taizhang.insight.rules import reply_rules
from tests.api.conftest import CST, PERSONAS, ApiClient

TITLE = "金桂苑小区3号楼电梯经常故障困人"
DESCRIPTION = "金桂苑小区3号楼电梯一周内坏了三次，有老人被困。请问什么时候能彻底修好？能否更换新电梯？"
GOOD = (
    "您好！您反映的问题已收悉。经住建局工作人员3月12日现场核查，金桂苑小区3号楼电梯主板老化，"
    "情况属实。根据《特种设备安全法》第四十二条，已责令物业公司当日修复电梯并加强维保；"
    "物业已申请维修基金更换新电梯，预计4月30日前完成，届时可彻底修好。如有疑问请致电住建局物业科。感谢您的支持！"
)
FORWARD = (
    "网友您好！您的留言已收悉，已转相关单位调查处理，如有相关情况将及时反馈。感谢您的留言！2026年3月12日"
)
VAGUE = "您好！关于您反映的问题，我们高度重视，相关部门正在积极研究解决办法，请您耐心等待。感谢您对我们工作的理解和支持！"


@pytest.fixture
def scorer():
    return ReplyScorer(reply_rules())


def test_a_specific_answer_scores_high_on_every_component(scorer):
    s = scorer.score(TITLE, DESCRIPTION, GOOD)
    assert (s.relevance, s.completeness) == (1.0, 1.0)
    assert set(s.cues) == {"basis", "action", "when", "who"} and s.interpretability == 1.0
    assert s.timeliness is None and s.overall == 1.0 and not s.weak and s.reasons == []
    assert (s.points, s.addressed) == (3, 3)  # the title and the two questions


def test_forwarding_only_is_empty_and_weak(scorer):
    s = scorer.score(TITLE, DESCRIPTION, FORWARD)
    assert scorer.substance(FORWARD) == ""
    assert (s.relevance, s.completeness, s.interpretability, s.overall) == (0.0, 0.0, 0.0, 0.0)
    assert s.weak and s.reasons == ["答复无实质内容（仅受理、转办或客套）"]


def test_restating_the_title_is_not_relevance(scorer):
    restated = f"关于您反映的“{TITLE}”问题，我们高度重视，请您耐心等待，后续将有专人与您联系沟通。"
    s = scorer.score(TITLE, DESCRIPTION, restated)
    assert s.relevance == 0.0 and s.completeness == 0.0
    assert s.weak and "与诉求相关性低" in s.reasons


def test_a_vague_answer_is_flagged_with_its_reasons(scorer):
    s = scorer.score(TITLE, DESCRIPTION, VAGUE)
    assert s.weak and s.overall < reply_rules().weak_below
    assert any(r.startswith("未回应所提问题") for r in s.reasons)


def test_timeliness_falls_linearly_after_the_deadline(scorer):
    due = datetime(2026, 3, 17, 10, 0, tzinfo=CST)
    on_time = scorer.score(TITLE, DESCRIPTION, GOOD, replied_at=due - timedelta(hours=1), due_at=due)
    late = scorer.score(TITLE, DESCRIPTION, GOOD, replied_at=due + timedelta(days=3.5), due_at=due)
    assert on_time.timeliness == 1.0 and late.timeliness == pytest.approx(
        1 - 3.5 / reply_rules().late_zero_days
    )
    w = reply_rules().weights
    expected = (
        w.relevance * late.relevance
        + w.completeness * late.completeness
        + w.interpretability * late.interpretability
        + w.timeliness * late.timeliness
    ) / (w.relevance + w.completeness + w.interpretability + w.timeliness)
    assert late.overall == pytest.approx(expected, abs=1e-3)
    assert ("超期答复（晚 3.5 天）" in late.reasons) == (late.timeliness < reply_rules().component_floor)


# ------------------------------------------------------------------------------- stored at the reply


def demand(world, title=TITLE, description=DESCRIPTION, user=None, **kw) -> Case:
    data = dict(
        mechanism="demand",
        title=title,
        description=description,
        division=world.grid.code,
        category="complaint",
        grade="general",
        channel="hotline",
    )
    data.update(kw)
    case, _ = do_create_case(user or world.dispatcher, CaseInput(**data))
    return case


def act(user, case, code, **kw):
    kw.setdefault("opinion", "同意")
    return do_transition(user, case.pk, TransitionRequest(code=code, **kw))


def replied(world, case, answer: str, dispatcher=None) -> Case:
    act(dispatcher or world.dispatcher, case, "dispatch", params={"unit": world.safety_bureau.code})
    act(world.handler, case, "sign")
    act(world.handler, case, "reply", fields={"reply": answer}, opinion="已答复")
    return Case.objects.get(pk=case.pk)


def test_an_answer_is_scored_when_the_reply_is_recorded(world):
    case = replied(world, demand(world), GOOD)
    row = Transition.objects.get(case=case, code="reply")
    q = ReplyQuality.objects.get(transition=row)
    assert (q.case_id, q.unit_id, q.replied_at) == (case.pk, world.safety_bureau.pk, row.created_at)
    assert q.due_at == datetime(
        2026, 12, 1, 10, 0, tzinfo=CST
    )  # 7 自然日 of 办理, not the 回访 limit after it
    assert (q.timeliness, q.weak, q.completeness, q.interpretability) == (1.0, False, 1.0, 1.0)
    expected = score_answer(case, GOOD, reply_rules(), replied_at=q.replied_at, due_at=q.due_at)
    assert (q.relevance, q.overall) == (expected.relevance, expected.overall) and q.overall > 0.9
    assert Transition.objects.filter(case=case).count() == 4  # scoring wrote no history


def test_a_late_empty_answer_is_weak_with_both_reasons(world, frozen):
    case = demand(world)
    act(world.dispatcher, case, "dispatch", params={"unit": world.safety_bureau.code})
    act(world.handler, case, "sign")
    frozen.shift(timedelta(days=14))  # 7 days after the deadline, still in 2026
    act(world.handler, case, "reply", fields={"reply": FORWARD}, opinion="已答复")
    q = ReplyQuality.objects.get(case=case)
    assert q.weak and q.timeliness == 0.0 and q.overall == 0.0
    assert q.reasons == ["答复无实质内容（仅受理、转办或客套）", "超期答复（晚 7.0 天）"]


def test_a_direct_answer_to_a_consultation_is_scored(world):
    case = demand(
        world,
        title="咨询公积金贷款额度怎么计算",
        description="请问公积金贷款最高能贷多少？",
        category="consult",
    )
    answer = "根据《住房公积金贷款管理办法》，贷款额度按缴存余额的15倍计算，最高60万元。"
    act(world.dispatcher, case, "answer_directly", fields={"reply": answer}, opinion="直接答复")
    q = ReplyQuality.objects.get(case=case)
    assert q.due_at is not None and q.timeliness == 1.0 and not q.weak
    assert (
        q.completeness == 1.0
        and "basis" in ReplyScorer(reply_rules()).score(case.title, case.description, answer).cues
    )


def test_rescore_scores_answers_given_before(world):
    case = replied(world, demand(world), GOOD)
    ReplyQuality.objects.all().delete()
    assert rescore() == 1 and rescore() == 0
    assert ReplyQuality.objects.get().case_id == case.pk
    ReplyQuality.objects.update(overall=0.0, weak=True)
    assert rescore(only_missing=False) == 1  # --all: scored again under the current rules
    assert (ReplyQuality.objects.count(), ReplyQuality.objects.get().weak) == (1, False)


# ----------------------------------------------------------------------------------------- reading


@pytest.fixture
def scored(world):
    good = replied(world, demand(world), GOOD)
    weak = replied(world, demand(world, title="幸福路路灯不亮", description="幸福路路灯坏了一周。"), FORWARD)
    elsewhere = demand(world, division=world.other_grid.code, user=world.leader)
    replied(world, elsewhere, VAGUE, world.leader)
    return good, weak, elsewhere


def test_supervisors_read_scores_of_the_cases_they_see(world, scored):
    good, weak, elsewhere = scored
    everything = reply_quality_list(world.inspector)
    assert everything["summary"]["answers"] == 3 and everything["summary"]["weak"] == 2
    street = reply_quality_list(world.dispatcher)  # 五马街道: not 白兔村
    assert [i["number"] for i in street["items"]] == [weak.number, good.number]
    weakest = reply_quality_list(world.leader, order="weakest", weak=True)
    assert [i["number"] for i in weakest["items"]][0] in {weak.number, elsewhere.number}
    assert all(i["weak"] for i in weakest["items"])
    assert reply_quality_list(world.leader, limit=1)["next_offset"] == 1


@pytest.mark.parametrize("persona", PERSONAS)
def test_reply_quality_api_permission_for_every_role(world, scored, persona):
    allowed = {"dispatcher": 2, "leader": 3, "inspector": 3}
    api = ApiClient()
    api.client.force_login(getattr(world, persona))
    response = api.get("/replies/quality")
    if persona in allowed:
        assert response.status_code == 200
        body = response.json()
        assert body["summary"]["answers"] == allowed[persona] == len(body["items"])
        assert set(body["items"][0]) >= {
            "relevance",
            "completeness",
            "interpretability",
            "timeliness",
            "reasons",
        }
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "role_not_allowed"


def test_reply_quality_api_needs_login_and_checks_its_filters(world, scored):
    assert ApiClient().get("/replies/quality").status_code == 401
    api = ApiClient()
    api.client.force_login(world.leader)
    bad = api.get("/replies/quality", {"order": "best", "limit": 500, "unit": "NOPE", "division": "NOPE"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"order", "limit", "unit", "division"}
    assert {e["code"] for e in bad.json()["errors"] if e["field"] == "division"} == {"unknown_division"}
    beyond = api.get("/replies/quality", {"offset": 10**20})  # was a 500: no database takes that OFFSET
    assert beyond.status_code == 422 and beyond.json()["errors"][0]["field"] == "offset"
    far = api.get("/replies/quality", {"from": "0001-01-01", "to": "9999-12-31"})  # was a 500 (overflow)
    assert far.status_code == 422
    assert {(e["field"], e["code"]) for e in far.json()["errors"]} == {
        ("from", "date_out_of_range"),
        ("to", "date_out_of_range"),
    }
    village = api.get("/replies/quality", {"division": world.other_grid.code}).json()
    assert [i["number"] for i in village["items"]] == [scored[2].number]
    only = api.get("/replies/quality", {"weak": "true", "unit": world.safety_bureau.code}).json()
    assert only["summary"] == {"answers": 2, "weak": 2, "average": only["summary"]["average"]}


def test_an_unknown_viewer_role_in_the_rules_is_refused_at_load(settings, tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    from taizhang.insight.rules import SHIPPED, reset_rules

    (tmp_path / "insight").mkdir()
    text = (SHIPPED / "replies.yaml").read_text(encoding="utf-8")
    broken = text.replace("viewer_roles: [dispatcher, leader, inspector]", "viewer_roles: [dispatcher, boss]")
    broken = broken.replace("weak_below: 0.40", "weak_below: '[('")
    (tmp_path / "insight" / "replies.yaml").write_text(
        broken.replace("'属实|不属实'", "'属实|(不属实'"), encoding="utf-8"
    )
    settings.TAIZHANG_MECHANISM_DIR = tmp_path
    reset_rules()
    try:
        with pytest.raises(ImproperlyConfigured) as info:
            reply_rules()
        message = str(info.value)
        assert "viewer_roles" in message or "weak_below" in message
    finally:
        settings.TAIZHANG_MECHANISM_DIR = SHIPPED.parent
        reset_rules()


def test_a_scoring_failure_never_loses_the_answer(world, monkeypatch):
    import taizhang.insight.reply_index as index

    def boom(row):
        raise RuntimeError("scorer broken")

    monkeypatch.setattr(index, "score_transition", boom)
    case = replied(world, demand(world), GOOD)
    assert case.state == "replied" and not ReplyQuality.objects.exists()
    with pytest.raises(ActionError):
        reply_quality_list(world.handler)
