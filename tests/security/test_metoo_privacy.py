"""我也遇到 (me too) grants no sight of a case: a supporter sees the public ledger's view only, and only
items of the public ledger can be supported (never petitions, inspection findings or self-checks).

Every case here belongs to someone else and carries a name, a phone number and an address that only
those who may see the case should read. Each read a supporter might try — the API's detail, history,
similar cases, notices and attachments, the case page, the portal's own-case page — must answer 404,
the same as for a case that does not exist, whether the case is open or closed.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from PIL import Image

from taizhang.cases.actions import TransitionRequest, do_transition
from taizhang.cases.attachments import do_upload_attachment
from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Case
from taizhang.clock.now import now as clock_now
from taizhang.insight.models import CaseSupporter
from taizhang.org.models import Membership, User
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=CST)  # a working Tuesday
NAME = "欧阳娜娜"
PHONE = "13912345678"
ADDRESS = "和心社区3号楼2单元501室"
SECRETS = (NAME, PHONE, "501")
TEXT = f"楼道里堆满杂物，我叫{NAME}，电话{PHONE}，住{ADDRESS}"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def neighbour(world) -> User:
    """A resident who files nothing: everything here is somebody else's."""
    user = User.objects.create_user(username="linju", password="pw-linju", display_name="邻居甲")
    Membership.objects.create(user=user, role="resident")
    return user


def photo(user) -> int:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(buf, "JPEG")
    return do_upload_attachment(user, "现场.jpg", io.BytesIO(buf.getvalue()), len(buf.getvalue())).pk


def create(user, **kw) -> Case:
    kw.setdefault("division", "WMJD-HX-01")
    kw.setdefault("address", ADDRESS)
    kw.setdefault("description", TEXT)
    kw.setdefault("attachments", [photo(user)])
    case, _ = do_create_case(user, CaseInput(**kw))
    return case


def demand(world) -> Case:
    fields = {"caller_name": NAME, "caller_phone": PHONE}
    return create(
        world.dispatcher,
        mechanism="demand",
        title="楼道堆物",
        category="complaint",
        channel="hotline",
        fields=fields,
    )


def petition(world) -> Case:
    """A resident's petition, transferred and accepted: its 受理告知书 is issued."""
    fields = {
        "petitioner_name": NAME,
        "petitioner_phone": PHONE,
        "petitioner_address": ADDRESS,
        "request": TEXT,
    }
    case = create(
        world.resident, mechanism="petition", title="加装电梯补贴未兑现", category="appeal", fields=fields
    )
    do_transition(
        world.dispatcher,
        case.pk,
        TransitionRequest(code="transfer", opinion="转送", params={"unit": world.safety_bureau.code}),
    )
    do_transition(world.handler, case.pk, TransitionRequest(code="accept", opinion="受理"))
    return Case.objects.get(pk=case.pk)


def hazard(world, who: str) -> Case:
    """A hazard found by an enterprise's self-check, a special inspection, or reported by a resident."""
    user, channel = {
        "self_check": (world.enterprise_officer, "self_check"),
        "inspection": (world.dispatcher, "inspection"),
        "resident": (world.resident, "resident"),
    }[who]
    division = "XBTZ-BT-01" if who == "self_check" else "WMJD-HX-01"
    return create(
        user,
        mechanism="hazard",
        title="配电箱无防护",
        category="electrical",
        channel=channel,
        division=division,
    )


def close(case: Case) -> Case:
    closed = {"demand": "closed", "petition": "concluded", "hazard": "closed"}[case.mechanism]
    Case.objects.filter(pk=case.pk).update(state=closed, state_kind="closed", closed_at=clock_now())
    return Case.objects.get(pk=case.pk)


def api_of(user) -> ApiClient:
    api = ApiClient()
    api.client.force_login(user)
    return api


def assert_sees_nothing(user, case: Case) -> None:
    """Every read of the case answers 404 (or leaves it out of a list) and shows none of its secrets."""
    api = api_of(user)
    attachment = case.attachments.first()
    reads = [
        api.get(f"/cases/{case.number}"),
        api.get(f"/cases/{case.pk}"),
        api.get(f"/cases/{case.number}/similar"),
        api.get(f"/cases/{case.number}/notices"),
        api.get(f"/cases/{case.number}/notices/acceptance"),
        api.get(f"/attachments/{attachment.pk}"),
        api.client.get(f"/cases/{case.number}/"),
        api.client.get(f"/portal/mine/{case.number}/"),
    ]
    for response in reads:
        assert response.status_code == 404, (response.request["PATH_INFO"], response.status_code)
        body = response.content.decode()
        assert not any(secret in body for secret in SECRETS), response.request["PATH_INFO"]
    listed = api.get("/cases", {"limit": 100}).json()["items"]
    assert case.number not in [c["number"] for c in listed]


# -- a supporter of a public item sees the public view only -------------------------------------------


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
def test_a_supporter_of_a_demand_reads_only_its_public_view(world, neighbour, closed):
    case = demand(world)
    response = api_of(neighbour).post(f"/cases/{case.number}/metoo")
    assert response.status_code == 201 and response.json()["supporters"] == 1
    if closed:
        case = close(case)
    assert_sees_nothing(neighbour, case)
    ledger = api_of(neighbour).client.get(f"/portal/ledger/{case.number}/")
    assert ledger.status_code == 200
    body = ledger.content.decode()
    assert "楼道里堆满杂物" in body and not any(secret in body for secret in SECRETS)


def test_the_portal_lists_a_supported_case_under_my_demands_as_its_ledger_entry(client, world, neighbour):
    case = demand(world)
    client.force_login(neighbour)
    response = client.post(f"/portal/ledger/{case.number}/metoo/")
    assert response.status_code == 302 and CaseSupporter.objects.filter(case=case, user=neighbour).exists()
    home = client.get("/portal/").content.decode()
    assert f"/portal/ledger/{case.number}/" in home and f"/portal/mine/{case.number}/" not in home
    page = client.get(f"/portal/ledger/{case.number}/").content.decode()
    assert "您已表示“我也遇到”" in page and not any(secret in page for secret in SECRETS)


def test_a_public_hazard_can_be_supported_and_shows_only_its_public_view(world, neighbour):
    case = hazard(world, "resident")
    assert api_of(neighbour).post(f"/cases/{case.number}/metoo").status_code == 201
    assert_sees_nothing(neighbour, case)
    body = api_of(neighbour).client.get(f"/portal/ledger/{case.number}/").content.decode()
    assert "配电箱无防护" in body and not any(secret in body for secret in SECRETS)


# -- what the public ledger does not show cannot be supported -----------------------------------------


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
@pytest.mark.parametrize("kind", ["petition", "self_check", "inspection"])
def test_metoo_on_what_the_ledger_hides_is_404_like_a_case_that_does_not_exist(
    world, neighbour, kind, closed
):
    case = petition(world) if kind == "petition" else hazard(world, kind)
    if closed:
        case = close(case)
    api = api_of(neighbour)
    response = api.post(f"/cases/{case.number}/metoo")
    missing = api.post("/cases/XF-2026-999999/metoo")
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()  # the same answer: nothing says the case exists
    assert not CaseSupporter.objects.filter(case=case).exists()
    assert_sees_nothing(neighbour, case)
    web = api.client.post(f"/portal/ledger/{case.number}/metoo/")
    assert web.status_code == 302 and not CaseSupporter.objects.filter(case=case).exists()
    assert api.client.get(f"/portal/ledger/{case.number}/").status_code == 404


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
@pytest.mark.parametrize("kind", ["petition", "self_check", "demand"])
def test_a_supporter_row_grants_no_sight(world, neighbour, kind, closed):
    """Rows written before 我也遇到 was restricted (or by any other path) open nothing either."""
    case = {"petition": petition, "demand": demand}.get(kind, lambda w: hazard(w, kind))(world)
    CaseSupporter.objects.create(case=case, user=neighbour, created_at=clock_now())
    if closed:
        case = close(case)
    assert_sees_nothing(neighbour, case)
    assert not Case.objects.for_user(neighbour).exists()


def test_the_petitioner_still_reads_their_own_petition_and_its_notice(world):
    case = petition(world)
    api = api_of(world.resident)
    assert api.get(f"/cases/{case.number}").status_code == 200
    assert api.get(f"/cases/{case.number}/notices/acceptance").status_code == 200
