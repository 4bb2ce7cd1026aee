"""The case page's insight for staff: the automatic-dispatch suggestion made at intake (with the 派单 form's
unit pre-selected) and the quality of each scored answer, hidden from the public and from other roles."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from taizhang.cases.models import Case
from taizhang.insight.actions import do_metoo
from taizhang.insight.models import ReplyQuality
from tests.api.conftest import frozen  # noqa: F401  (the fixture, re-exported)
from tests.insight.test_classifier import SMOKE, models, routes, trained  # noqa: F401  (fixtures)
from tests.insight.test_classifier import demand as classified_demand
from tests.insight.test_reply_quality import FORWARD, GOOD, demand, replied

# Who may read reply quality (viewer_roles in mechanisms/insight/replies.yaml) among the personas that see
# a 五马街道 demand dispatched to 应急管理局; the others see the case but not the scores.
VIEWERS = ("dispatcher", "leader", "inspector")
NON_VIEWERS = ("grid_worker", "handler", "verifier")


@pytest.fixture(autouse=True)
def _frozen_clock(frozen):  # noqa: F811
    yield frozen


def page(client, user, case):
    client.force_login(user)
    response = client.get(f"/cases/{case.number}/")
    assert response.status_code == 200
    return response


def dispatch_unit(response) -> str:
    form = next(f for f in response.context["forms"] if f.code == "dispatch")
    return next(w for w in form.widgets if w.name == "params.unit").value


def with_suggestion(case: Case, **changes) -> Case:
    suggestion = {
        "topic": "环境保护",
        "confidence": 0.8731,
        "unit": "LZQ-SWJ",
        "unit_name": "潞州区水务局",
        "model": "20261124-100000",
        "locality": "LZQ",
        "threshold": 0.9,
        "decision": "below_threshold",
        "alternatives": [
            {"topic": "城乡建设", "confidence": 0.08},
            {"topic": "交通运输", "confidence": 0.03},
        ],
        **changes,
    }
    Case.objects.filter(pk=case.pk).update(data={**(case.data or {}), "suggestion": suggestion})
    return Case.objects.get(pk=case.pk)


# -- the suggestion ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("models")  # the topic model trained on the classifier tests' fixture
def test_the_suggestion_made_at_intake_is_shown_to_staff_and_never_to_the_reporter(client, world, routes):  # noqa: F811
    routes(threshold=1.0, auto=True)  # below the threshold: a dispatcher decides
    case = classified_demand(world, "河道被污染", SMOKE, user=world.resident)
    suggestion = case.data["suggestion"]
    response = page(client, world.dispatcher, case)
    shown = response.context["suggestion"]
    assert shown["topic"] == "环境保护" and shown["unit_name"] == "潞州区水务局"
    assert shown["percent"] == f"{round(suggestion['confidence'] * 100)}%"
    assert shown["model"] == suggestion["model"] and shown["decision"] == "below_threshold"
    assert len(shown["alternatives"]) == len(suggestion["alternatives"]) > 0
    body = response.content.decode()
    assert "智能分派建议" in body and "置信度低于本地阈值，由派遣员人工派单" in body
    assert suggestion["model"] in body and shown["alternatives"][0]["topic"] in body
    assert dispatch_unit(response) == "LZQ-SWJ"  # the 派单 form starts on the suggested unit
    public = page(client, world.resident, case)
    assert public.context["public"] and public.context["suggestion"] is None
    body = public.content.decode()
    assert "智能分派建议" not in body and suggestion["model"] not in body and "置信度" not in body


@pytest.mark.parametrize(
    "decision, words, preselected",
    [
        ("auto", "置信度达到本地阈值，系统已自动派单", "LZQ-SWJ"),
        ("below_threshold", "置信度低于本地阈值，由派遣员人工派单", "LZQ-SWJ"),
        ("manual", "本地未启用自动派单，仅作建议，由派遣员派单", "LZQ-SWJ"),
        ("no_unit", "本地未配置该领域的承办单位，由派遣员派单", ""),
        ("topic_differs", "与上报时选择的问题领域不一致，由派遣员决定", ""),
    ],
)
def test_every_decision_is_said_in_words(client, world, decision, words, preselected):
    unit = {} if decision != "no_unit" else {"unit": None, "unit_name": None}
    case = with_suggestion(demand(world), decision=decision, **unit)
    response = page(client, world.dispatcher, case)
    body = response.content.decode()
    assert words in body and "87%" in body and "城乡建设" in body and "8%" in body
    assert response.context["suggestion"]["threshold"] == "90%"
    # Pre-selected only where the suggestion names a unit the reporter's own topic does not contradict.
    assert dispatch_unit(response) == preselected


def test_a_dispatched_case_keeps_the_panel_but_no_longer_preselects(client, world):
    case = with_suggestion(demand(world))
    response = page(client, world.leader, case)
    assert response.context["suggestion"] is not None and dispatch_unit(response) == "LZQ-SWJ"
    replied(world, case, GOOD)
    response = page(client, world.dispatcher, case)
    assert "智能分派建议" in response.content.decode()
    assert all(f.code != "dispatch" for f in response.context["forms"])


def test_a_case_without_a_suggestion_has_no_panel(client, world):
    response = page(client, world.dispatcher, demand(world))
    assert response.context["suggestion"] is None and "智能分派建议" not in response.content.decode()
    assert dispatch_unit(response) == ""


# -- reply quality -------------------------------------------------------------------------------------


def reply_entries(response):
    return [e for e in response.context["entries"] if e.quality is not None]


@pytest.mark.parametrize("persona", VIEWERS)
def test_supervisors_see_the_scores_next_to_the_answer(client, world, persona):
    case = replied(world, demand(world), GOOD)
    q = ReplyQuality.objects.get(case=case)
    response = page(client, getattr(world, persona), case)
    [entry] = reply_entries(response)
    assert entry.name == "答复" and entry.quality.overall == q.overall and not entry.quality.weak
    labels = [label for label, _ in entry.quality.components]
    assert labels == ["相关性", "完整性", "可解释性", "及时性"]
    body = response.content.decode()
    assert "答复质量" in body and f"{q.overall:.2f}" in body and "弱答复" not in body
    assert response.context["scored_replies"] == 1


def test_a_weak_answer_is_flagged_with_its_reasons(client, world):
    case = replied(world, demand(world), FORWARD)
    response = page(client, world.leader, case)
    [entry] = reply_entries(response)
    assert entry.quality.weak and entry.quality.reasons == ["答复无实质内容（仅受理、转办或客套）"]
    body = response.content.decode()
    assert "弱答复" in body and "答复无实质内容（仅受理、转办或客套）" in body


@pytest.mark.parametrize("persona", NON_VIEWERS)
def test_other_staff_see_the_answer_but_not_its_scores(client, world, persona):
    case = replied(world, demand(world), FORWARD)
    response = page(client, getattr(world, persona), case)
    assert reply_entries(response) == [] and response.context["scored_replies"] == 0
    body = response.content.decode()
    assert "已答复" in body and "答复质量" not in body and "弱答复" not in body


def test_the_resident_reporter_never_sees_the_scores(client, world):
    case = replied(world, demand(world, user=world.resident), FORWARD)
    response = page(client, world.resident, case)
    assert response.context["public"] and reply_entries(response) == []
    body = response.content.decode()
    assert "答复质量" not in body and "弱答复" not in body and "答复无实质内容" not in body


def test_scores_cost_one_query_and_none_for_those_who_may_not_read_them(
    client, world, django_assert_max_num_queries
):
    case = replied(world, demand(world), GOOD)
    table = ReplyQuality._meta.db_table
    for user, reads in [(world.dispatcher, 1), (world.handler, 0)]:
        client.force_login(user)
        with CaptureQueriesContext(connection) as ctx, django_assert_max_num_queries(30):
            assert client.get(f"/cases/{case.number}/").status_code == 200
        assert sum(table in q["sql"] for q in ctx.captured_queries) == reads


def test_a_supporter_is_an_entry_of_the_timeline(client, world):
    case = demand(world)
    do_metoo(world.resident, case.number)
    body = page(client, world.dispatcher, case).content.decode()
    assert "我也遇到（附议）" in body and "附议人数" in body and world.resident.display_name in body
