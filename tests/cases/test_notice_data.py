"""Written notices as data: the mechanism names each notice's template, the transitions that issue it and
where its values come from (`notices:`), checked at load time; the shipped petition notices render
byte for byte as they did when they were written in code (the golden files under fixtures/notices/ were
made by that code), as HTML and as PDF.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from taizhang.cases.approvals import do_decide
from taizhang.cases.notices import NOTICES, issued_notices, render_notice
from taizhang.mechanisms.errors import MechanismError
from taizhang.mechanisms.registry import get_mechanism, load_directory

from . import test_petition_mechanism as petition_tests
from .test_petition_mechanism import (
    RECHECK,
    act,
    at,
    fresh,
    petition,
    to_handling,
    to_rechecking,
    to_routed,
)

px = petition_tests.px
frozen = petition_tests.frozen
GOLDEN = Path(__file__).parent / "fixtures" / "notices"
# TAIZHANG_WRITE_GOLDEN=1 rewrites the golden files (only ever from code known to render correctly).
WRITE = os.environ.get("TAIZHANG_WRITE_GOLDEN") == "1"


def same_as_golden(name: str, html: str) -> None:
    path = GOLDEN / f"{name}.html"
    if WRITE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    assert html == path.read_text(encoding="utf-8"), name


def test_acceptance_and_non_acceptance_render_as_before(px, frozen):
    case = to_routed(px, petition(px.world))
    frozen.move_to(at(2026, 4, 27, 9, 30))
    act(px.world.handler, case, "accept")
    same_as_golden("acceptance", render_notice(fresh(case), "acceptance"))
    other = to_routed(px, petition(px.world))
    act(
        px.world.handler,
        other,
        "decline",
        fields={"decline_reason": "该事项已进入行政复议程序", "proper_channel": "请依法参加行政复议"},
    )
    same_as_golden("non_acceptance", render_notice(fresh(other), "non_acceptance"))
    intake = petition(
        px.world, px.intake, channel="letter", fields={"petitioner_name": "秦某", "request": "x"}
    )
    act(px.intake, intake, "decline", fields={"decline_reason": "属于人民法院受理范围"})
    same_as_golden("non_acceptance_by_intake", render_notice(fresh(intake), "non_acceptance"))


def test_extension_renders_as_before(px, frozen):
    case = to_handling(px, petition(px.world))
    act(px.world.handler, case, "extend", params={"extend_by": "20 天"}, opinion="需调取补贴审批档案")
    frozen.move_to(at(2026, 4, 21, 10, 0))
    do_decide(px.bureau_leader, case.pk, True, "同意")
    same_as_golden("extension", render_notice(fresh(case), "extension"))


def test_replies_render_as_before(px, frozen):
    case = to_rechecking(px, petition(px.world))
    frozen.move_to(at(2026, 4, 30, 10, 0))
    act(px.rechecker, case, "recheck_reply", fields=RECHECK)
    case = fresh(case)
    for kind in ("acceptance", "reply", "review", "recheck"):
        same_as_golden(f"chain_{kind}", render_notice(case, kind))
    assert [n["kind"] for n in issued_notices(case)] == ["acceptance", "reply", "review", "recheck"]


def test_the_notices_come_from_the_mechanism_file():
    petition = get_mechanism("petition").definition.notices
    assert [n.kind for n in petition.documents] == list(NOTICES["petition"])
    assert {n.template for n in petition.documents} == {f"notices/{k}.html" for k in NOTICES["petition"]}
    assert NOTICES["petition"]["extension"].transitions == ("extend",)
    assert "hazard" not in NOTICES and NOTICES.get("hazard") is None


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="no fontconfig")
def test_the_pdf_is_made_with_a_cjk_font(px, frozen):
    from taizhang.cases.notices import notice_pdf

    case = to_routed(px, petition(px.world))
    act(px.world.handler, case, "accept")
    try:
        pdf = notice_pdf(render_notice(fresh(case), "acceptance"))
    except Exception as exc:  # pragma: no cover - a server without Pango
        pytest.skip(f"WeasyPrint unavailable: {exc}")
    from .test_notices import pdf_objects

    assert pdf.startswith(b"%PDF") and b"CJK" in pdf_objects(pdf)


# -- validation ---------------------------------------------------------------------------------------


def refused(tmp_path, old: str, new: str) -> str:
    directory = tmp_path / "mechanisms"
    shutil.copytree(settings.TAIZHANG_MECHANISM_DIR, directory)
    path = directory / "petition.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(MechanismError) as info:
        load_directory(directory)
    return str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("template: notices/acceptance.html", "template: notices/acceptanse.html", "找不到模板"),
        ("issued_by: [accept]", "issued_by: [acept]", "未知的流转 'acept'"),
        ("handling_limit: limit.handling", "handling_limit: limit.handlng", "不是本机制有时限的状态"),
        ("handling_limit: limit.handling", "handling_limit: limit.closed_done", "不是本机制有时限的状态"),
        ("extend_max: extend_max.extend", "extend_max: extend_max.accept", "延期上限"),
        ("result: label.decision", "result: label.reply", "不是本机制的选择型字段"),
        (
            "reason: [field.decline_reason, opinion]",
            "reason: [field.decline_reasn, opinion]",
            "未知的表单字段",
        ),
        (
            "reason: [field.decline_reason, opinion]",
            "reason: [field.decline_reason, opnion]",
            "未知的取值来源",
        ),
        ("handling_limit: limit.handling", "number: limit.handling", "每份告知都有的内容"),
        ("template: notices/acceptance.html", "template: ../settings.html", "notices.documents[0].template"),
    ],
)
def test_notices_are_checked_when_loading(tmp_path, old, new, message):
    assert message in refused(tmp_path, old, new)


# -- a time limit that holds only for some values -----------------------------------------------------

COLLECTIVE_LIMIT = "  - {state: handling, limit: 60 天}  # 办结；延期至多 30 天（extend_max）\n"


@pytest.fixture
def collective_limit(tmp_path):
    """The petition mechanism with a shorter handling limit for a collective petition (≥ 5 people)."""
    from .packs import edited

    when = "  - {state: handling, limit: 30 天, when: {field: people_count, ge: 5}}\n"
    with edited(tmp_path, "petition.yaml", COLLECTIVE_LIMIT, COLLECTIVE_LIMIT + when):
        yield


@pytest.mark.parametrize(("people", "shown"), [(6, "30日"), (2, "60日")])
def test_a_limit_with_a_condition_on_values_shows_in_the_notice(px, frozen, collective_limit, people, shown):
    case = petition(px.world, fields={**petition_tests.FIELDS, "people_count": people})
    case = to_routed(px, case)
    act(px.world.handler, case, "accept")
    html = render_notice(fresh(case), "acceptance")
    assert f"自受理之日起{shown}内办结" in html
