"""Written notices (书面告知) of a petition: the right content per kind, from the case and its history."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from taizhang.cases.approvals import do_decide
from taizhang.cases.notices import NOTICES, issued_notices, render_notice
from taizhang.errors import ActionError

from . import test_petition_mechanism as petition_tests
from .helpers import report
from .test_petition_mechanism import (
    RECHECK,
    act,
    at,
    error_of,
    fresh,
    petition,
    to_handling,
    to_rechecking,
    to_replied,
    to_review_replied,
    to_routed,
)

# The petition tests' fixtures: their people and bodies, and the clock frozen on 2026-04-20 10:00.
px = petition_tests.px
frozen = petition_tests.frozen


def text_of(html: str) -> str:
    """The notice's body without tags and line breaks, so phrases can be looked for whole."""
    body = html.split("<body>", 1)[1]
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", body))


def test_every_notice_has_a_template():
    from django.template.loader import get_template

    for notices in NOTICES.values():
        for kind in notices:
            get_template(f"notices/{kind}.html")


def test_acceptance_notice(px, frozen):
    case = to_routed(px, petition(px.world))
    frozen.move_to(at(2026, 4, 27, 9, 30))
    act(px.world.handler, case, "accept")
    text = text_of(render_notice(fresh(case), "acceptance"))
    assert text.startswith("信访事项受理告知书XF-2026-000001-03郝小雨：")
    assert "你（单位）于2026年4月20日提出的信访事项（加装电梯补贴未兑现）收悉" in text
    assert "请求兑现2025年申请的既有住宅加装电梯补贴" in text
    assert "决定予以受理，受理日期为2026年4月27日" in text
    assert "自受理之日起60日内办结" in text and "办理期限至2026年6月26日" in text
    assert "延长期限不超过30日，并告知延期理由" in text
    assert "潞州区应急管理局（印章）2026年4月27日" in text
    assert "住址：和心社区5号楼2单元" in text


def test_non_acceptance_notice_by_the_body_and_by_intake(px):
    case = to_routed(px, petition(px.world))
    act(
        px.world.handler,
        case,
        "decline",
        fields={"decline_reason": "该事项已进入行政复议程序", "proper_channel": "请依法参加行政复议"},
    )
    text = text_of(render_notice(fresh(case), "non_acceptance"))
    assert "信访事项不予受理告知书" in text
    assert "本机关决定不予受理。理由如下：该事项已进入行政复议程序" in text
    assert "请依法通过以下途径提出：请依法参加行政复议" in text
    assert "潞州区应急管理局（印章）" in text
    other = petition(
        px.world, px.intake, channel="letter", fields={"petitioner_name": "秦某", "request": "x"}
    )
    act(px.intake, other, "decline", fields={"decline_reason": "属于人民法院受理范围"})
    text = text_of(render_notice(fresh(other), "non_acceptance"))
    assert "秦某：" in text and "五马街道（印章）" in text  # no unit yet: the intake's own office
    assert "请依法通过以下途径提出" not in text


def test_extension_notice_gives_the_reason_and_the_new_deadline(px, frozen):
    case = to_handling(px, petition(px.world))
    act(px.world.handler, case, "extend", params={"extend_by": "20 天"}, opinion="需调取补贴审批档案")
    frozen.move_to(at(2026, 4, 21, 10, 0))
    do_decide(px.bureau_leader, case.pk, True, "同意")
    text = text_of(render_notice(fresh(case), "extension"))
    assert "信访事项延期办理告知书" in text
    assert "原定办理期限至2026年6月19日" in text
    assert "延期理由：需调取补贴审批档案" in text  # the handler's reason, not the approver's opinion
    assert "经本机关负责人批准，办理期限延长20日，至2026年7月9日" in text
    assert "潞州区应急管理局（印章）2026年4月21日" in text


def test_a_refused_extension_issues_no_notice(px):
    case = to_handling(px, petition(px.world))
    act(px.world.handler, case, "extend", params={"extend_by": "20 天"}, opinion="情况复杂")
    do_decide(px.bureau_leader, case.pk, False, "理由不充分")
    err = error_of(lambda: render_notice(fresh(case), "extension"))
    assert (err.status, err.code) == (409, "notice_not_issued")


def test_reply_notice_states_the_decision_and_the_right_to_review(px, frozen):
    case = to_handling(px, petition(px.world))
    frozen.move_to(at(2026, 5, 8, 11, 0))
    act(
        px.world.handler,
        case,
        "reply",
        fields={"decision": "reject", "reply": "经核实，该楼栋不符合补贴条件。\n详见附件。"},
    )
    html = render_notice(fresh(case), "reply")
    assert "不符合补贴条件。<br>详见附件。" in html
    text = text_of(html)
    assert "信访事项处理意见书" in text and "处理意见：不予支持。" in text
    assert (
        "如不服本处理意见，可以自收到本意见书之日起30日内，向原办理机关、单位的上一级机关、单位请求复查"
        in text
    )
    assert "请求期限至2026年6月7日" in text
    assert "潞州区应急管理局（印章）2026年5月8日" in text


def test_review_and_recheck_notices_name_their_own_bodies(px, frozen):
    case = to_rechecking(px, petition(px.world))
    frozen.move_to(at(2026, 4, 30, 10, 0))
    act(px.rechecker, case, "recheck_reply", fields=RECHECK)
    case = fresh(case)
    reply = text_of(render_notice(case, "reply"))
    assert "潞州区应急管理局（印章）" in reply  # the body that replied, though the case has moved on
    review = text_of(render_notice(case, "review"))
    assert "信访事项复查意见书" in review and "复查请求：补贴金额计算有误" in review
    assert "复查意见：维持原处理意见。原处理意见正确" in review
    assert "自收到本意见书之日起30日内，向复查机关、单位的上一级机关、单位请求复核" in review
    assert "潞州区人民政府（印章）" in review
    recheck = text_of(render_notice(case, "recheck"))
    assert "信访事项复核意见书" in recheck and "复核意见：维持复查意见。" in recheck
    assert "本复核意见为该信访事项的终结意见" in recheck
    assert "仍然以同一事实和理由提出信访事项的，各级党委和政府信访部门和其他机关、单位不再受理" in recheck
    assert "长治市人民政府（印章）2026年4月30日" in recheck
    assert "请求复查" not in recheck
    assert [n["kind"] for n in issued_notices(case)] == ["acceptance", "reply", "review", "recheck"]


def test_the_petitioners_text_is_escaped(px):
    case = petition(px.world, fields={"petitioner_name": "<b>某</b>", "request": "<script>alert(1)</script>"})
    act(px.intake, case, "transfer", params={"unit": px.world.safety_bureau.code})
    act(px.world.handler, case, "accept")
    html = render_notice(fresh(case), "acceptance")
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;某&lt;/b&gt;：" in html


def test_unknown_or_not_yet_issued_notices(px, world):
    case = to_replied(px, petition(world))
    err = error_of(lambda: render_notice(case, "review"))
    assert (err.status, err.code) == (409, "notice_not_issued")
    err = error_of(lambda: render_notice(case, "summons"))
    assert (err.status, err.code) == (404, "unknown_notice")
    hazard = report(world)
    with pytest.raises(ActionError) as info:
        render_notice(hazard, "acceptance")
    assert info.value.code == "unknown_notice" and "可用：无" in info.value.message


def test_review_notice_after_the_window_lapsed_is_still_printable(px, frozen):
    case = to_review_replied(px, petition(px.world))
    frozen.move_to(at(2026, 6, 1, 10, 0))
    act(px.world.dispatcher, case, "conclude_review")
    assert "复查意见书" in render_notice(fresh(case), "review")


# -- the API ------------------------------------------------------------------------------------------


def client_for(user) -> Client:
    from taizhang.web.api.auth import issue_token

    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(user, '测试')}")


def pdf_objects(pdf: bytes) -> bytes:
    """The PDF with its compressed streams inflated (font names live in object streams)."""
    import re
    import zlib

    out = [pdf]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            pass
    return b"".join(out)


def test_pdf_without_pango_is_a_clear_error(px, monkeypatch):
    import builtins

    from taizhang.cases.notices import notice_pdf
    from taizhang.errors import ActionError

    real_import = builtins.__import__

    def no_pango(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pango)
    with pytest.raises(ActionError) as info:
        notice_pdf("<p>告知书</p>")
    assert (info.value.code, info.value.status) == ("pdf_unavailable", 503)


def test_api_serves_notices_to_who_may_see_the_case(px):
    world = px.world
    case = to_handling(px, petition(world))
    url = f"/api/v1/cases/{case.number}/notices"
    res = client_for(world.resident).get(url + "/acceptance")
    assert res.status_code == 200 and res["Content-Type"] == "text/html; charset=utf-8"
    assert "信访事项受理告知书" in res.content.decode()
    res = client_for(world.handler).get(f"/api/v1/cases/{case.pk}/notices/acceptance")
    assert res.status_code == 200
    res = client_for(world.outsider).get(url + "/acceptance")
    assert res.status_code == 404 and res.json()["code"] == "not_found"
    res = client_for(world.resident).get(url + "/reply")
    assert (res.status_code, res.json()["code"]) == (409, "notice_not_issued")
    res = client_for(world.resident).get(url + "/acceptance", {"format": "pdf"})
    assert res.status_code == 200 and res["Content-Type"] == "application/pdf"
    assert res.content.startswith(b"%PDF-")
    # The Chinese text is set in an embedded CJK font (Debian's fonts-noto-cjk), not missing glyphs.
    assert b"NotoSerifCJK" in pdf_objects(res.content) or b"NotoSansCJK" in pdf_objects(res.content)
    res = client_for(world.resident).get(url + "/acceptance", {"format": "docx"})
    assert (res.status_code, res.json()["code"]) == (406, "unknown_format")
    res = Client().get(url + "/acceptance")
    assert res.status_code == 401
    res = client_for(world.resident).get(url)
    assert res.status_code == 200
    assert [(n["kind"], n["title"]) for n in res.json()] == [("acceptance", "信访事项受理告知书")]
