"""Open311 GET shows no more than the public ledger: the same cases, the same redaction.

`/open311/v2/requests`, `requests/{id}` and `servicerequestupdates` (JSON and XML) need no key, so
everything they say is public: no caller's name, phone or e-mail (not even inside the description or a
staff opinion), coordinates only as precise as the mechanism publishes, no internal findings (企业自查,
专项检查) and no petitions — exactly the items and texts of the public ledger (为民办事台账).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taizhang.cases.actions import TransitionRequest, do_transition
from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Case
from taizhang.org.models import Membership, User

pytestmark = pytest.mark.django_db

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=CST)  # a working Tuesday
NAME = "欧阳娜娜"
PHONE = "13912345678"
EMAIL = "nana.ouyang@example.com"
TEXT = f"小区门口夜间施工噪音扰民，我是{NAME}，电话{PHONE}，住和心社区3号楼2单元501室"
SECRETS = (NAME, PHONE, EMAIL, "501", "36.195123", "113.116456")
FORMATS = ("json", "xml")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def intake_user(world) -> User:
    """A 受理员 of the district: who files what outside systems send."""
    user = User.objects.create_user(username="shouli", password="pw-shouli", display_name="邢佳音")
    Membership.objects.create(user=user, role="intake", division=world.district)
    return user


def create(user, **kw) -> Case:
    kw.setdefault("division", "WMJD-HX-01")
    kw.setdefault("description", TEXT)
    kw.setdefault("address", "潞州区英雄中路12号和心社区3号楼2单元501室")
    kw.setdefault("lat", "36.195123")
    kw.setdefault("lon", "113.116456")
    case, _ = do_create_case(user, CaseInput(**kw))
    return case


def open311_demand(intake_user, **kw) -> Case:
    """A demand as Open311 files it: the caller in the mechanism's fields, the e-mail beside them."""
    kw.setdefault("fields", {"caller_name": NAME, "caller_phone": PHONE})
    kw.setdefault("extra", {"open311": {"email": EMAIL}, "media_url": "https://img.example.com/me.jpg"})
    return create(
        intake_user, mechanism="demand", title="夜间施工噪音", category="complaint", channel="open311", **kw
    )


def open311_hazard(intake_user, **kw) -> Case:
    """A hazard as Open311 files it: hazards have no caller fields, the contact sits in data.open311."""
    kw.setdefault("extra", {"open311": {"name": NAME, "phone": PHONE, "email": EMAIL}})
    return create(intake_user, mechanism="hazard", title="楼道堆物", category="fire", channel="open311", **kw)


def internal_hazards(world) -> list[Case]:
    """Findings of an enterprise's self-check and of a special inspection: internal work."""
    return [
        create(
            world.enterprise_officer,
            mechanism="hazard",
            title="储罐区静电接地失效",
            category="hazchem",
            division="XBTZ-BT-01",
        ),
        create(
            world.dispatcher,
            mechanism="hazard",
            title="专项检查：消防通道堵塞",
            category="fire",
            channel="inspection",
        ),
    ]


def get(path: str, fmt: str, **params) -> tuple[int, str]:
    response = Client().get(f"/open311/v2/{path}.{fmt}", params)
    return response.status_code, response.content.decode()


def everything(numbers: list[str], lists: bool = True) -> dict[str, str]:
    """Every Open311 read in both formats, plus the ledger's pages for these cases: {what: body}.

    `lists`: also the whole lists (else only what names these cases, which is quicker).
    """
    out = {}
    ids = ",".join(numbers)
    for fmt in FORMATS:
        out[f"ids.{fmt}"] = get("requests", fmt, service_request_id=ids)[1]
        out[f"updates.{fmt}"] = get(
            "servicerequestupdates", fmt, start_date="2026-11-24", service_request_id=ids
        )[1]
        for number in numbers:
            out[f"{number}.{fmt}"] = get(f"requests/{number}", fmt)[1]
        if lists:
            out[f"requests.{fmt}"] = get("requests", fmt)[1]
            out[f"all-updates.{fmt}"] = get("servicerequestupdates", fmt, updated_after="2026-11-24")[1]
    client = Client()
    for status in ("open", "done") if lists else ():
        out[f"ledger.{status}"] = client.get("/portal/ledger/", {"status": status}).content.decode()
    for number in numbers:
        out[f"ledger/{number}"] = client.get(f"/portal/ledger/{number}/").content.decode()
    return out


def assert_no_secret(bodies: dict[str, str], secrets=SECRETS) -> None:
    for what, body in bodies.items():
        for secret in secrets:
            assert secret not in body, f"{secret!r} in {what}"


def act(user, case: Case, code: str, **kw) -> Case:
    return do_transition(user, case.pk, TransitionRequest(code=code, **kw))


# -- personal data ------------------------------------------------------------------------------------


def test_open311_shows_no_caller_data_anywhere(world, intake_user):
    demand, hazard = open311_demand(intake_user), open311_hazard(intake_user)
    bodies = everything([demand.number, hazard.number])
    assert_no_secret(bodies)
    [item] = json.loads(bodies[f"{demand.number}.json"])
    assert (
        item["description"] == "小区门口夜间施工噪音扰民，我是欧***，电话139****5678，住和心社区*号楼*单元*室"
    )
    assert item["media_url"] is None  # the reporter's photo is not the public's
    assert item["address"] == "五马街道 和心社区"  # the place, cut to the community as in the ledger
    assert "139****5678" in bodies[f"ledger/{demand.number}"]


def test_staff_opinions_are_public_only_where_the_ledger_shows_them_and_redacted(world, intake_user):
    case = open311_demand(intake_user)
    act(
        intake_user,
        case,
        "dispatch",
        opinion=f"已电话联系{NAME}（{PHONE}）",
        params={"unit": world.safety_bureau.code},
    )
    act(world.inspector, case, "urge", opinion="内部催办：请尽快签收")
    case = act(world.handler, case, "sign", opinion="签收")
    act(world.handler, case, "reply", opinion="已答复", fields={"reply": f"已约谈施工方，{NAME}表示认可"})
    act(intake_user, case, "visit_satisfied", opinion=f"回访{NAME}，满意")
    bodies = everything([case.number])
    assert_no_secret(bodies, (NAME, PHONE, "内部催办"))
    updates = json.loads(bodies["all-updates.json"])
    assert [u["description"] for u in updates] == [
        "上报",
        "派单",  # the dispatcher's note is internal, as in the ledger
        "签收",
        "答复：已约谈施工方，欧***表示认可",
        "回访满意办结：回访欧***，满意",
    ]
    [item] = json.loads(bodies[f"{case.number}.json"])
    assert item["status"] == "closed" and item["status_notes"] == "回访满意办结：回访欧***，满意"


# -- coordinates --------------------------------------------------------------------------------------


def test_coordinates_are_as_precise_as_the_mechanism_publishes(world, intake_user):
    case = open311_demand(intake_user)
    for fmt in FORMATS:
        status, body = get(f"requests/{case.number}", fmt)
        assert status == 200 and "36.195123" not in body and "113.116456" not in body
    [item] = json.loads(get(f"requests/{case.number}", "json")[1])
    assert (item["lat"], item["long"]) == (36.195, 113.116)  # demand.yaml: public.location.decimals 3


# -- which items are public ---------------------------------------------------------------------------


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
def test_internal_findings_and_petitions_are_not_open311_requests(world, intake_user, closed):
    hidden = internal_hazards(world)
    petition = create(
        world.resident,
        mechanism="petition",
        title="加装电梯补贴未兑现",
        category="appeal",
        fields={"petitioner_name": NAME, "request": "请求兑现补贴"},
    )
    hidden.append(petition)
    if closed:
        Case.objects.filter(pk__in=[c.pk for c in hidden]).update(state="closed", state_kind="closed")
    public = open311_hazard(intake_user)
    for fmt in FORMATS:
        listed = get("requests", fmt, status="open,closed")[1]
        asked = get("requests", fmt, service_request_id=",".join(c.number for c in hidden))[1]
        updates = get("servicerequestupdates", fmt, updated_after="2026-11-24")[1]
        assert public.number in listed and public.number in updates
        for case in hidden:
            assert case.number not in listed + asked + updates
            status, body = get(f"requests/{case.number}", fmt)
            missing = get("requests/YH-2026-999999", fmt)
            assert status == missing[0] == 404 and case.title not in body
    assert_no_secret(
        {"ledger": Client().get("/portal/ledger/?status=open").content.decode()}, ["储罐区", "专项检查"]
    )


def test_open311_and_the_ledger_show_the_same_items(world, intake_user):
    """One rule: every public item is in both; nothing else is in either."""
    shown = [open311_demand(intake_user), open311_hazard(intake_user)]
    shown.append(create(world.grid_worker, mechanism="hazard", title="配电箱无防护", category="electrical"))
    internal_hazards(world)
    ledger = Client().get("/portal/ledger/?status=open")
    in_ledger = {row.number for row in ledger.context["rows"]}
    in_open311 = {r["service_request_id"] for r in json.loads(get("requests", "json")[1])}
    assert in_ledger == in_open311 == {c.number for c in shown}


# -- property: whatever the text, the caller's name and phone never come out --------------------------

SURNAMES = "王李张刘陈杨赵黄周吴欧阳司马诸葛"
GIVEN = "鑫淼焱垚犇骉昊皓晗琰玥瑾璇珏婕妤嫣"  # characters no place, category or state name uses
FILLER = st.text(
    alphabet=st.sampled_from("路灯不亮噪音扰民我叫是的电话联系人先生女士，。：:() 0123456789-号楼室"),
    max_size=12,
)


@st.composite
def callers(draw) -> tuple[str, str, str]:
    """(name, phone as stored, phone as written in the text)."""
    name = draw(st.sampled_from(["欧阳", "司马", "诸葛"]) | st.sampled_from(list(SURNAMES[:10])))
    name += "".join(draw(st.lists(st.sampled_from(GIVEN), min_size=1, max_size=2)))
    digits = draw(st.sampled_from(["13", "15", "18", "19"])) + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9))
    )
    written = draw(
        st.sampled_from(
            [
                digits,
                f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
                f"{digits[:3]} {digits[3:7]} {digits[7:]}",
                f"+86 {digits}",
            ]
        )
    )
    return name, digits, written


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(caller=callers(), parts=st.lists(FILLER, min_size=3, max_size=3), hazard=st.booleans())
def test_names_and_phones_in_descriptions_never_reach_public_outputs(
    world, intake_user, caller, parts, hazard
):
    name, digits, written = caller
    text = f"{parts[0]}{name}{parts[1]}{written}{parts[2]}"
    if hazard:
        case = open311_hazard(
            intake_user, description=text, extra={"open311": {"name": name, "phone": digits}}
        )
    else:
        case = open311_demand(
            intake_user, description=text, fields={"caller_name": name, "caller_phone": digits}
        )
    act(intake_user, case, "reject" if hazard else "invalidate", opinion=f"已告知{name}（{written}）")
    bodies = everything([case.number], lists=False)
    assert case.number in bodies[f"{case.number}.json"] and "已告知" in bodies[f"ledger/{case.number}"]
    assert_no_secret(bodies, {name, digits, written, written.replace(" ", "")})
