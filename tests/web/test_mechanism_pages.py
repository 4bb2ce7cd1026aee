"""Mechanism pages: the list, one read-only page per mechanism with its diagram (server-drawn SVG) and
its rules in tables, for every persona; the diagram's layout; the admin in Chinese linking to them."""

from __future__ import annotations

import re

import pytest

from taizhang.mechanisms.registry import get_mechanism, get_registry
from taizhang.web.mechanism_pages.describe import transition_rows
from taizhang.web.mechanism_pages.diagram import build_diagram, state_edges

CODES = sorted(get_registry().mechanisms)


def test_anonymous_is_sent_to_login(client, db):
    assert client.get("/mechanisms/")["Location"].startswith("/login/")
    assert client.get("/mechanisms/hazard/")["Location"].startswith("/login/")


def test_every_persona_reads_every_mechanism(client, world, django_assert_max_num_queries):
    for name, person in world.personas().items():
        client.force_login(person)
        with django_assert_max_num_queries(8):
            listing = client.get("/mechanisms/")
        assert listing.status_code == 200, name
        body = listing.content.decode()
        for code in CODES:
            assert f'href="/mechanisms/{code}/"' in body
            with django_assert_max_num_queries(8):
                page = client.get(f"/mechanisms/{code}/")
            assert page.status_code == 200, (name, code)
            assert page.context["nav_active"] == "mechanisms"


def test_unknown_mechanism_is_not_found(client, world):
    client.force_login(world.leader)
    assert client.get("/mechanisms/nope/").status_code == 404


def test_the_page_draws_every_state_and_every_state_change(client, world):
    client.force_login(world.dispatcher)
    body = client.get("/mechanisms/hazard/").content.decode()
    mech = get_mechanism("hazard")
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert 'role="img"' in svg and "安全隐患闭环流程图" in svg
    assert set(re.findall(r'data-state="(\w+)"', svg)) == set(mech.states)
    drawn = set(re.findall(r'data-from="(\w+)" data-to="(\w+)"', svg))
    expected = {(f, t.to) for t in mech.definition.transitions if t.to for f in t.from_ if f != t.to}
    # to_previous (解除封控, 解除停产停业): an edge back to each state the case may have come from.
    expected |= {
        (f, p)
        for t in mech.definition.transitions
        if t.to_previous
        for f in t.from_
        for p in mech.entries_of(f)
    }
    assert drawn == expected
    assert ("controlled", "reported") in drawn and ("suspended", "enforcement") in drawn
    assert ("verifying", "rectifying") in drawn  # 返工 goes back
    for name in ("立案", "交办", "签收", "复核通过并销号", "复核不通过返工", "退回"):
        assert f">{name}<" in svg


def test_the_transitions_table(client, world):
    client.force_login(world.leader)
    response = client.get("/mechanisms/hazard/")
    rows = {r.code: r for r in response.context["transitions"]}
    assert set(rows) == set(get_mechanism("hazard").transitions)
    sign = rows["sign"]
    assert (sign.from_, sign.to) == ("待签收", "整改中")
    assert "处置人" in sign.roles and "企业安全员" in sign.roles
    assert any(r.startswith("等级为重大隐患时：须填写：整改措施") for r in sign.requirements)
    assert sign.limit.startswith("重新计时：7 自然日")
    assert any("须经领导（监督方）、派遣员审批（延期审批）" == r for r in rows["extend"].requirements)
    assert "核查员（监督方）" in rows["pass"].roles
    assert rows["extend"].to == "（状态不变）" and rows["extend"].limit == "延长时限，累计不超过20 工作日"
    assert rows["lift_cordon"].to == "返回上一状态（待立案、待交办、整改中）"
    assert "不得由办理「整改完成」、「执法完成」的同一人操作" in rows["pass"].requirements
    assert "仅限等级为一般隐患" in rows["fix_on_spot"].requirements
    assert "须上传照片至少 1 张" in rows["fix_on_spot"].requirements
    assert rows["urge"].limit == "时限不变" and rows["resume"].limit == "恢复停表前剩余时限"
    assert "不向群众公开" in rows["flag"].requirements
    body = response.content.decode()
    assert 'id="transitions"' in body and '<th scope="col">办理人</th>' in body
    # The rule pack's local numbers: 潞州区 rectifies in working days.
    [pack] = response.context["packs"]
    assert "潞州区" in pack["divisions"]
    assert ("整改中", "5 工作日；等级为较大隐患：15 工作日；等级为重大隐患：30 工作日") in pack["limits"]


def test_demand_page_names_its_fields_and_recorded_values(client, world):
    client.force_login(world.dispatcher)
    rows = {r.code: r for r in client.get("/mechanisms/demand/").context["transitions"]}
    assert (
        "须填写：退单理由" in rows["return"].requirements[-1]
        or "须填写：退单理由" in rows["return"].requirements
    )
    assert "记录满意度：满意" in rows["visit_satisfied"].requirements
    assert "可指定协办单位" in rows["dispatch"].requirements


@pytest.mark.parametrize("code", CODES)
def test_diagram_layout(code):
    mech = get_mechanism(code)
    d = build_diagram(mech)
    nodes = {n.code: n for n in d.nodes}
    assert nodes[mech.definition.intake.initial].layer == 0
    for a in d.nodes:  # no two states overlap
        for b in d.nodes:
            if a is not b:
                apart = a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y
                assert apart, (a.code, b.code)
        assert 0 <= a.x and a.x + a.w <= d.width and 0 <= a.y and a.y + a.h <= d.height
    assert len(d.edges) == len(state_edges(mech))
    for e in d.edges:
        assert e.path.startswith("M") and e.kind in ("forward", "over", "back")
        assert 0 <= e.label_y <= d.height
        if e.kind == "forward":
            assert nodes[e.target].layer == nodes[e.source].layer + 1


def test_back_edges_are_the_returns():
    d = build_diagram(get_mechanism("hazard"))
    kinds = {(e.source, e.target): e.kind for e in d.edges}
    assert kinds["assigned", "registered"] == "back"  # 退回
    assert kinds["verifying", "rectifying"] == "back"  # 返工
    assert kinds["registered", "assigned"] == "forward"
    assert kinds["reported", "closed"] == "over"  # 即查即改 skips ahead


def test_every_transition_is_described():
    for code in CODES:
        mech = get_mechanism(code)
        rows = transition_rows(mech)
        assert [r.code for r in rows] == [t.code for t in mech.definition.transitions]
        assert all(r.roles and r.from_ and r.limit for r in rows)


# -- the admin ---------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, world):
    from taizhang.web.api.auth import issue_token

    world.leader.is_staff = world.leader.is_superuser = True
    world.leader.save()
    issue_token(world.dispatcher, "对接系统")
    client.force_login(world.leader)
    return client


def test_admin_index_links_the_diagrams(admin_client):
    body = admin_client.get("/admin/").content.decode()
    assert "台账 · 管理后台" in body
    for code in CODES:
        assert f'href="/mechanisms/{code}/"' in body
    assert "机制（只读：流程图与规则）" in body


@pytest.mark.parametrize(
    "url, words",
    [
        ("/admin/org/division/", ["行政区划/网格", "名称", "编码", "层级", "上级", "\u3000\u3000五马街道"]),
        ("/admin/org/unit/", ["单位", "类型", "可联合执法", "潞州区应急管理局"]),
        ("/admin/org/membership/", ["岗位", "人员", "角色", "所在区划/单位", "在岗", "派遣员"]),
        ("/admin/org/membership/add/", ["人员", "所在区划", "所在单位", "角色"]),
        ("/admin/org/user/", ["人员", "姓名", "电话"]),
        ("/admin/org/apitoken/", ["接口令牌", "创建时间", "最近使用", "已吊销"]),
    ],
)
def test_admin_org_pages_are_in_chinese(admin_client, url, words):
    response = admin_client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    for word in words:
        assert word in body, word
    for english in (">division<", ">unit<", ">user<", "Token hash", "Last used at"):
        assert english not in body


def test_admin_person_page_shows_posts_in_chinese(admin_client, world):
    body = admin_client.get(f"/admin/org/user/{world.dispatcher.pk}/change/").content.decode()
    assert "岗位" in body and "所在区划" in body and "五马街道" in body
