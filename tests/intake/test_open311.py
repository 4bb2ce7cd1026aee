"""Open311 GeoReport v2: discovery, services, service definitions and POST requests (both formats)."""

# ruff: noqa: F811  (the fixtures imported from open311_support are parameters of the tests)

from __future__ import annotations

import pytest

from taizhang.cases.models import Case, IdempotencyKey

from .open311_support import api_key, frozen, intake_user, o311, report  # noqa: F401

pytestmark = pytest.mark.django_db

DEMAND = ["demand.consult", "demand.help", "demand.complaint", "demand.report", "demand.suggestion"]


# Discovery and services ------------------------------------------------------------------------------


def test_discovery(o311):
    data = o311.get("discovery", "discovery")
    endpoint = data["endpoints"][0]
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert data["changeset"].endswith("+08:00")


def test_services_are_the_categories_of_intake_mechanisms(o311, world):
    data = o311.get("services", "services")
    codes = [s["service_code"] for s in data]
    assert codes[:5] == DEMAND
    assert "hazard.fire" in codes and "hazard.gas" in codes
    complaint = data[codes.index("demand.complaint")]
    assert complaint["service_name"] == "投诉"
    assert complaint["group"] == "12345接诉即办"
    assert complaint["type"] == "realtime"
    assert complaint["metadata"] is True  # 问题领域
    assert data[codes.index("hazard.fire")]["metadata"] is True  # 隐患部位
    assert o311.get("services", "services", jurisdiction_id=world.district.code) == data


def test_services_unknown_jurisdiction_is_404(o311):
    [message] = o311.error("services", 404, jurisdiction_id="NOPE")
    assert "NOPE" in message


def test_service_definition_has_public_reporter_fields_only(o311):
    data = o311.get("services/demand.complaint", "service_definition")
    assert data["service_code"] == "demand.complaint"
    # 问题领域 only: 答复内容 and 满意度 are public but staff fill them in; the rest are internal/personal.
    assert data["attributes"] == [
        {
            "variable": True,
            "code": "topic",
            "datatype": "string",
            "required": False,
            "datatype_description": None,
            "order": 1,
            "description": "问题领域",
        }
    ]


def test_hazard_service_definition_offers_the_hazard_place(o311):
    definition = o311.get("services/hazard.fire", "service_definition")
    assert definition["service_code"] == "hazard.fire"
    assert [(a["code"], a["datatype"], a["required"]) for a in definition["attributes"]] == [
        ("hazard_place", "string", False)
    ]


def test_service_definition_lists_choices():
    from taizhang.intake.open311.services import Service, attribute_data, reporter_fields
    from taizhang.mechanisms.registry import get_mechanism

    mech = get_mechanism("demand")
    satisfaction = mech.fields["satisfaction"]
    data = attribute_data(satisfaction, 2)
    assert data["datatype"] == "singlevaluelist"
    assert data["values"][0] == {"key": "satisfied", "name": "满意"}
    assert [f.name for f in reporter_fields(mech)] == ["topic"]
    assert Service(mech, "complaint", "投诉", "open311").code == "demand.complaint"


@pytest.mark.parametrize("path", ["services/demand.nothing", "services/nothing"])
def test_unknown_service_is_404(o311, path):
    [message] = o311.error(path, 404)
    assert "service_code" in message


def test_unknown_resource_and_method(o311):
    assert o311.error("nothing/here", 404)
    assert o311.error("services/%0A", 404)  # a newline is a path too (was Django's HTML 404)
    response = o311.raw("DELETE", "requests", "json")
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"
    assert o311.error("services", 405, method="PUT")


# POST requests ---------------------------------------------------------------------------------------


def test_post_creates_a_case(o311, report, intake_user, world):
    data = o311.post(**report(account_id="acct-7"))
    case = Case.objects.get(number=data["service_request_id"])
    assert data["service_request_id"] == "SQ-2026-000001"
    assert data["account_id"] == "acct-7"
    assert data["service_notice"] == "已受理，当前环节办理时限至 2026-11-24T12:00:00+08:00"
    assert len(data["token"]) == 43  # 32 random bytes (tests/security/test_open311_keys.py)
    assert case.reporter == intake_user
    assert case.channel == "open311"
    assert case.category == "complaint"
    assert case.division == world.district  # no boundaries stored
    assert case.title == "小区门口夜间施工噪音扰民"
    assert case.description.startswith("小区门口夜间施工噪音扰民\n")
    assert case.address == "潞州区英雄中路 12 号"
    assert str(case.lat) == "36.195000" and str(case.lon) == "113.116000"
    assert case.data == {
        "topic": "噪音",
        "caller_name": "王小明",
        "caller_phone": "13800000000",
        "media_url": "https://img.example.com/noise.jpg",
        "open311": {"email": "wang@example.com", "account_id": "acct-7"},
    }
    assert case.transitions.get().code == "create"


def test_post_xml(o311, report):
    data = o311.post(
        "xml",
        **report(service_code="hazard.gas", description="", media_url=None, **{"attribute[topic]": None}),
    )
    case = Case.objects.get(number=data["service_request_id"])
    assert data["service_request_id"].startswith("YH-2026-")
    assert data["account_id"] is None
    assert case.mechanism == "hazard" and case.category == "gas"
    assert case.channel == "open311"
    assert case.title == "燃气安全（外部系统接入）"
    assert "media_url" not in case.data


def test_post_retry_does_not_create_a_second_case(o311, report):
    first = o311.post(**report())
    again = o311.post(status=200, **report())
    in_xml = o311.post("xml", status=200, **report())
    assert first == again
    same_place = o311.post(status=200, **report(lat="36.1950", long="113.11600"))
    assert same_place["service_request_id"] == first["service_request_id"]
    assert in_xml["service_request_id"] == first["service_request_id"]
    assert Case.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    other = o311.post(**report(description="另一件事：路灯不亮"))
    assert other["service_request_id"] != first["service_request_id"]
    by_device = o311.post(**report(device_id="kiosk-2"))  # the same words from another device
    assert by_device["service_request_id"] not in (first["service_request_id"], other["service_request_id"])
    assert Case.objects.count() == 3


def test_post_with_an_address_id_only(o311, report):
    data = o311.post(**report(lat=None, long=None, address_string=None, address_id="ADDR-99"))
    case = Case.objects.get(number=data["service_request_id"])
    assert case.lat is None and case.address == ""
    assert case.data["open311"]["address_id"] == "ADDR-99"


def test_post_without_jurisdiction_uses_the_only_one(o311, report, world):
    data = o311.post(**report(jurisdiction_id=None))
    assert Case.objects.get(number=data["service_request_id"]).division == world.district


def test_post_located_by_boundaries(o311, report, world):
    square = {
        "type": "Polygon",
        "coordinates": [[[113.1, 36.19], [113.12, 36.19], [113.12, 36.2], [113.1, 36.2]]],
    }
    world.grid.geometry = {"type": "Feature", "geometry": square}
    world.grid.save()
    world.street.geometry = {"type": "MultiPolygon", "coordinates": [square["coordinates"]]}
    world.street.save()
    inside = o311.post(**report())
    outside = o311.post(**report(lat="36.5", long="113.5"))
    assert Case.objects.get(number=inside["service_request_id"]).division == world.grid  # the deepest
    assert Case.objects.get(number=outside["service_request_id"]).division == world.district
    world.district.geometry = square
    world.district.save()
    [message] = o311.error("requests", 400, method="POST", **report(lat="36.6", long="113.5"))
    assert "不在潞州区辖区内" in message


def test_post_with_a_hole(o311, report, world):
    outer = [[113.0, 36.0], [113.3, 36.0], [113.3, 36.3], [113.0, 36.3], [113.0, 36.0]]
    hole = [[113.1, 36.1], [113.2, 36.1], [113.2, 36.2], [113.1, 36.2], [113.1, 36.1]]
    world.community.geometry = {"type": "Polygon", "coordinates": [outer, hole]}
    world.community.save()
    in_hole = o311.post(**report())
    in_ring = o311.post(**report(lat="36.05", long="113.05"))
    assert Case.objects.get(number=in_hole["service_request_id"]).division == world.district
    assert Case.objects.get(number=in_ring["service_request_id"]).division == world.community


# POST errors (each in both formats) ------------------------------------------------------------------


def test_post_stamps_the_key_as_used(o311, report):
    from taizhang.intake.models import Open311Key

    o311.post(**report())
    assert Open311Key.objects.get().last_used_at is not None


def test_post_without_or_with_a_bad_api_key_is_403(o311, report, world, intake_user):
    from taizhang.intake.models import Open311Key
    from taizhang.intake.open311.keys import issue_key
    from taizhang.org.models import Membership

    missing = o311.error("requests", 403, method="POST", **report(api_key=None))
    assert missing == ["缺少 api_key（表单参数 api_key 或请求头 X-API-Key）"]
    assert o311.error("requests", 403, method="POST", **report(api_key="o311_wrong"))
    Open311Key.objects.update(revoked=True)
    assert o311.error("requests", 403, method="POST", **report())
    # The key's person must be 受理员 where it files.
    Membership.objects.create(user=world.grid_worker, role="intake", division=world.street)
    street_key = issue_key(world.grid_worker, "网格员")[1]
    params = report(api_key=street_key, jurisdiction_id=world.district.code)
    [message] = o311.error("requests", 403, method="POST", **params)
    assert "不是潞州区的受理员" in message
    assert Case.objects.count() == 0


def test_post_outside_the_intake_division_is_403(o311, report, world):
    from taizhang.intake.open311.keys import issue_key
    from taizhang.org.models import Membership, User

    user = User.objects.create_user(username="jiedao", password="x", display_name="街道受理")
    Membership.objects.create(user=user, role="intake", division=world.street)
    key = issue_key(user, "街道")[1]
    params = report(api_key=key, jurisdiction_id=world.other_street.code)
    assert o311.error("requests", 403, method="POST", **params)
    assert o311.post(**report(api_key=key, jurisdiction_id=None))  # its only division: 五马街道


@pytest.mark.parametrize(
    "overrides, status, expected",
    [
        ({"jurisdiction_id": "NOPE"}, 404, "NOPE"),
        ({"service_code": "demand.nothing"}, 404, "demand.nothing"),
        ({"service_code": None}, 400, "缺少 service_code"),
        ({"lat": None, "long": None, "address_string": None}, 400, "须提供位置"),
        ({"lat": "abc"}, 400, "须为数字"),
        ({"long": None}, 400, "同时提供"),
        ({"lat": "91"}, 400, "±90"),
        ({"attribute[nothing]": "x"}, 400, "没有属性 nothing"),
        ({"attribute[caller_phone]": "x"}, 400, "没有属性 caller_phone"),  # personal: not an attribute
        ({"media_url": "ftp://x.example.com/a.jpg"}, 400, "media_url"),
        ({"description": "长" * 4001}, 400, "4000"),
        ({"phone": "1" * 31}, 400, "phone：联系电话：不能超过 30 个字"),
        ({"attribute[topic]": "话" * 101}, 400, "attribute[topic]：问题领域：不能超过 100 个字"),
    ],
)
def test_post_errors(o311, report, overrides, status, expected):
    messages = o311.error("requests", status, method="POST", **report(**overrides))
    assert any(expected in m for m in messages), messages
    assert Case.objects.count() == 0


def test_post_with_nul_in_the_jurisdiction_is_404(o311, report):
    """PostgreSQL cannot compare text with NUL: the division lookup was a 500 there."""
    response = o311.raw("POST", "requests", "json", report(jurisdiction_id="LZQ\x00"))
    assert response.status_code == 404 and "jurisdiction_id" in response.json()[0]["description"]
    assert Case.objects.count() == 0


def test_post_errors_are_all_listed(o311, report):
    messages = o311.error(
        "requests", 400, method="POST", **report(service_code=None, lat=None, long=None, address_string=None)
    )
    assert len(messages) == 2


# Parameter parsing -----------------------------------------------------------------------------------


def test_attribute_parameters(rf):
    from taizhang.intake.open311.views import post_of

    request = rf.post(
        "/open311/v2/requests.json?api_key=k",
        {"attribute[a]": ["1", "2"], "attribute[b][]": ["x", "y"], "attribute": "z", "description": "d"},
    )
    post = post_of(request)
    assert post.api_key == "k" and post.description == "d"
    assert post.attributes == {"a": "2", "b": ["x", "y"]}


def test_attribute_values_by_type():
    from taizhang.intake.open311.actions import attribute_values
    from taizhang.intake.open311.services import attribute_data
    from taizhang.mechanisms.schema import FieldDef

    kinds = FieldDef(name="kinds", label="类型", type="multichoice", choices=[{"code": "a", "name": "甲"}])
    urgent = FieldDef(name="urgent", label="紧急", type="bool", help="是否紧急")

    class Fake:
        code = "x.y"
        attributes = [kinds, urgent]

    assert attribute_values(Fake(), {"kinds": "a", "urgent": "TRUE"}) == {"kinds": ["a"], "urgent": True}
    assert attribute_data(kinds, 1)["datatype"] == "multivaluelist"
    assert attribute_data(urgent, 2) == {
        "variable": True,
        "code": "urgent",
        "datatype": "singlevaluelist",
        "required": False,
        "datatype_description": "是否紧急",
        "order": 2,
        "description": "紧急",
        "values": [{"key": "true", "name": "是"}, {"key": "false", "name": "否"}],
    }


def test_person_names():
    from taizhang.intake.open311.actions import person_name

    assert person_name("小明", "王") == "王小明"
    assert person_name("Ming", "Wang") == "Ming Wang"
    assert person_name("", "Wang") == "Wang"
