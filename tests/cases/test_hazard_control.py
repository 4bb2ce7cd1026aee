"""Hazard data fixes of issue #13: 封控撤离 from 待立案 and 待交办 with the return to where it came from
(`to_previous`), the 停产停业/停止使用 control state, the extension cap (`extend_max`, a local figure a
rule pack overrides) and the "before" photo a rule pack may ask for at intake on every path."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
import time_machine
from PIL import Image

from taizhang.cases.actions import available_transitions
from taizhang.cases.approvals import do_decide
from taizhang.cases.models import Case
from taizhang.mechanisms.registry import get_mechanism

from .helpers import TZ, act, error_of, fresh, report, to_rectifying
from .packs import extra_pack

TUESDAY = datetime(2026, 3, 10, 10, 0, tzinfo=TZ)
CORDON = {"cordon": "拉设警戒线，疏散楼内住户", "evacuated_people": 20}
ORDER = {
    "suspension_measure": "suspend_production",
    "suspension_basis": "《中华人民共和国安全生产法》第七十条，责令停产停业整顿决定书潞应急责停〔2026〕3号",
    "suspension_scope": "合成车间全部生产装置",
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TUESDAY, tick=False) as traveller:
        yield traveller


def states(case: Case) -> list[tuple[str, str]]:
    return [(r.from_state, r.to_state) for r in fresh(case).transitions.order_by("seq")]


# -- 封控撤离 from any early state; 解除封控 returns to where the cordon found the case ---------------------


def test_cordon_on_the_report_itself_and_lifting_returns_to_registration(world):
    case = report(world, category="building", title="自建房墙体开裂")
    act(world.grid_worker, case, "cordon", opinion="墙体贯通裂缝，立即撤离", fields=CORDON)
    case = fresh(case)
    assert (case.state, case.state_kind) == ("controlled", "controlled")
    err = error_of(lambda: act(world.dispatcher, case, "register"))
    assert (err.status, err.code) == (409, "transition_not_allowed")  # nothing is skipped while cordoned
    act(world.dispatcher, case, "lift_cordon", opinion="已加固支撑，解除封控")
    case = fresh(case)
    assert case.state == "reported"  # back to 待立案, not on to 整改中
    assert states(case)[-1] == ("controlled", "reported")
    act(world.dispatcher, case, "register")
    assert fresh(case).state == "registered"


def test_cordon_before_assignment_returns_to_waiting_for_assignment(world):
    case = report(world, category="building")
    act(world.dispatcher, case, "register")
    due = fresh(case).due_at
    act(world.dispatcher, case, "cordon", opinion="危房", fields=CORDON)
    act(world.leader, case, "lift_cordon", opinion="险情排除")
    case = fresh(case)
    assert (case.state, case.unit, case.due_at) == ("registered", None, due)  # deadline: keep
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    assert fresh(case).state == "assigned"


def test_cordon_during_rectification_still_returns_to_rectification(world):
    case = fresh(to_rectifying(world, report(world, category="building")))
    act(world.handler, case, "cordon", opinion="危房", fields=CORDON)
    act(world.handler, case, "lift_cordon", opinion="险情排除")
    assert fresh(case).state == "rectifying"


def test_lifting_takes_the_last_way_in_after_cordons_from_different_states(world):
    case = report(world, category="building")
    act(world.dispatcher, case, "cordon", opinion="危房", fields=CORDON)
    act(world.dispatcher, case, "lift_cordon", opinion="解除")
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "cordon", opinion="再次出现险情", fields=CORDON)
    act(world.inspector, case, "urge", opinion="请尽快处置")  # a row that stays in the state
    act(world.dispatcher, case, "lift_cordon", opinion="解除")
    assert fresh(case).state == "registered"


def test_the_mechanism_lists_where_a_cordon_may_return_to():
    mech = get_mechanism("hazard")
    assert mech.entries_of("controlled") == ["reported", "registered", "rectifying"]
    lift = mech.transitions["lift_cordon"]
    assert lift.to is None and lift.to_previous and lift.moves


# -- 停产停业/停止使用: ordered and lifted by enforcement or the supervising level --------------------------


def test_suspension_during_rectification_by_the_supervising_level(world):
    case = fresh(to_rectifying(world, report(world, category="hazchem")))
    due = case.due_at
    err = error_of(lambda: act(world.leader, case, "suspend", opinion="责令停产"))
    assert {e.field for e in err.errors} == {
        "fields.suspension_measure",
        "fields.suspension_basis",
        "fields.suspension_scope",
    }
    act(world.leader, case, "suspend", opinion="隐患未消除前不得生产", fields=ORDER)
    case = fresh(case)
    assert (case.state, case.state_kind, case.due_at) == ("suspended", "controlled", due)
    assert case.data["suspension_scope"] == "合成车间全部生产装置"
    act(world.leader, case, "lift_suspension", opinion="经复查隐患已消除，同意恢复生产")
    assert fresh(case).state == "rectifying"


def test_suspension_during_joint_enforcement_returns_to_enforcement(world):
    from taizhang.org.models import Membership, User

    enforcer = User.objects.create_user(username="zhifa", password="pw", display_name="执法队员")
    Membership.objects.create(user=enforcer, role="handler", unit=world.enforcement_bureau)
    case = to_rectifying(world, report(world, category="hazchem"))
    act(world.handler, case, "refuse", opinion="拒不整改", params={"unit": world.enforcement_bureau.code})
    act(enforcer, case, "suspend", opinion="依法责令停产停业", fields=ORDER)
    assert fresh(case).state == "suspended"
    act(enforcer, case, "lift_suspension", opinion="复查合格")
    case = fresh(case)
    # Back to 联合执法; the bureau that rectifies stays the responsible unit, the enforcement one a party.
    assert (case.state, case.unit) == ("enforcement", world.safety_bureau)
    assert case.parties.filter(kind="enforcement", unit=world.enforcement_bureau).exists()


def test_the_enterprise_cannot_order_or_lift_its_own_suspension(world):
    case = report(world, user=world.enterprise_officer, division=world.other_grid.code, category="hazchem")
    codes = {t.code for t, _ in available_transitions(world.enterprise_officer, case)}
    assert "suspend" not in codes and "cordon" not in codes


# -- 延期上限: a local default in the mechanism, the 潞州区 pack's figure where it applies -----------------


def test_extension_cap_is_the_packs_figure_in_luzhou_and_the_mechanisms_elsewhere(world):
    mech = get_mechanism("hazard")
    extend = mech.transitions["extend"]
    assert extend.extend_max == "20 工作日"  # the mechanism's local default
    assert mech.transition_rule(extend, "extend_max", "/CZS/") == "20 工作日"
    assert mech.transition_rule(extend, "extend_max", world.grid.path) == "15 工作日"  # packs/luzhou.yaml


def test_extensions_together_may_not_pass_the_cap(world):
    case = fresh(to_rectifying(world, report(world)))
    err = error_of(lambda: act(world.handler, case, "extend", params={"extend_by": "16 工作日"}))
    assert [(e.field, e.code) for e in err.errors] == [("params.extend_by", "extension_too_long")]
    assert "15个工作日" in err.errors[0].message
    act(world.handler, case, "extend", params={"extend_by": "10 工作日"}, opinion="需采购防爆设备")
    do_decide(world.leader, case.pk, True, "同意")
    err = error_of(lambda: act(world.handler, case, "extend", params={"extend_by": "6 工作日"}))
    assert err.errors[0].code == "extension_too_long" and "已延长10个工作日" in err.errors[0].message
    act(world.handler, case, "extend", params={"extend_by": "5 工作日"}, opinion="设备到货延迟")
    do_decide(world.leader, case.pk, True, "同意")
    assert fresh(case).pending is None


def test_demand_extension_cap_is_a_local_default():
    extend = get_mechanism("demand").transitions["extend"]
    assert extend.extend_max == "15 自然日"


# -- 处置前照片: a rule pack asks for a photo at intake, on every path -------------------------------------

PHOTO_PACK = """\
pack: photos
name: 五马街道隐患上报照片
divisions: [WMJD]
mechanisms:
  hazard:
    intake: {photos: 1, channels: [grid, resident, open311]}
"""


def jpeg() -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), (10, 120, 200)).save(buf, "JPEG")
    buf.seek(0)
    buf.name = "现场.jpg"
    return buf


@pytest.fixture
def photo_pack(tmp_path):
    with extra_pack(tmp_path, PHOTO_PACK):
        yield


def test_without_the_pack_no_photo_is_needed(world):
    assert report(world).state == "reported"
    mech = get_mechanism("hazard")
    assert mech.intake_photos("grid", world.grid.path) == 0


def test_the_pack_asks_a_before_photo_of_the_engine(world, photo, photo_pack):
    mech = get_mechanism("hazard")
    assert mech.intake_photos("grid", world.grid.path) == 1
    assert mech.intake_photos("inspection", world.grid.path) == 0  # a channel the pack does not name
    assert mech.intake_photos("grid", world.other_grid.path) == 0  # 西白兔镇: outside the pack
    err = error_of(lambda: report(world))
    assert [(e.field, e.code) for e in err.errors] == [("attachments", "photos_required")]
    assert err.errors[0].message == "上报须附至少 1 张现场照片"
    case = report(world, attachments=[photo(world.grid_worker)])
    assert case.transitions.get().attachments.count() == 1
    # 专项检查 by a dispatcher (channel inspection) and 西白兔镇's grid are not asked for one.
    assert report(world, user=world.dispatcher, channel="inspection").state == "reported"
    assert report(world, user=world.outsider, division=world.other_grid.code).state == "reported"


def test_the_api_refuses_a_report_without_the_photo(world, photo, photo_pack):
    from taizhang.web.api.auth import issue_token
    from tests.api.conftest import ApiClient

    api = ApiClient(issue_token(world.grid_worker, "测试"))
    response = api.create(world)
    assert response.status_code == 422
    assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {
        ("attachments", "photos_required")
    }
    response = api.create(world, attachments=[photo(world.grid_worker)])
    assert response.status_code == 201


def test_the_report_form_refuses_a_report_without_the_photo(client, world, photo_pack):
    from tests.web.test_report import form

    client.force_login(world.grid_worker)
    data = form(world)
    response = client.post("/report/new/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "上报须附至少 1 张现场照片" in response.content.decode()
    assert Case.objects.count() == 0
    response = client.post("/report/new/", {**data, "idempotency_key": "k-2", "photos": [jpeg()]})
    assert response.status_code == 302 and Case.objects.get().transitions.get().attachments.count() == 1


def test_open311_needs_a_media_url_where_the_pack_asks_for_a_photo(client, world, tmp_path):
    from taizhang.intake.open311.keys import issue_key
    from taizhang.org.models import Membership, User

    user = User.objects.create_user(username="shouli", password="pw", display_name="受理员")
    Membership.objects.create(user=user, role="intake", division=world.district)
    params = {
        "api_key": issue_key(user, "外部系统")[1],
        "jurisdiction_id": world.district.code,  # the case lands on the district (no boundaries stored)
        "service_code": "hazard.fire",
        "lat": "36.195",
        "long": "113.116",
        "address_string": "和心社区3号楼",
    }
    pack = PHOTO_PACK.replace("[WMJD]", "[LZQ]").replace("[grid, resident, open311]", "[open311]")
    with extra_pack(tmp_path, pack):
        response = client.post(
            "/open311/v2/requests.json", {**params, "description": "楼道堆放杂物\n堵塞通道"}
        )
        assert response.status_code == 400 and "上报须附至少 1 张现场照片" in response.content.decode()
        assert Case.objects.count() == 0
        url = "https://img.example.com/a.jpg"
        response = client.post(
            "/open311/v2/requests.json", {**params, "description": "楼道堆放杂物\n堵塞通道", "media_url": url}
        )
        assert response.status_code == 201
        assert Case.objects.get().data["media_url"] == url
