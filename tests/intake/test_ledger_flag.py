"""The public ledger (为民办事台账) as data: whether a mechanism is listed there and which of its form fields
each item shows (`public.ledger`), checked when the file is loaded; everything shown is redacted."""

from __future__ import annotations

import shutil

import pytest
import time_machine
from django.conf import settings

from taizhang.cases.create import CaseInput, do_create_case
from taizhang.insight.actions import do_metoo
from taizhang.intake.portal.ledger import kind_options
from taizhang.intake.public import is_public, public_cases, public_items
from taizhang.mechanisms.errors import MechanismError
from taizhang.mechanisms.registry import get_mechanism, load_directory
from tests.cases.helpers import at, error_of
from tests.cases.packs import edited


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        yield


def demand(world, topic: str = "路灯 13912345678"):
    case, _ = do_create_case(
        world.dispatcher,
        CaseInput(
            mechanism="demand",
            title="小区门口路灯不亮",
            division=world.community.code,
            category="complaint",
            channel="hotline",
            fields={"topic": topic, "caller_name": "王小明", "caller_phone": "13912345678"},
        ),
    )
    return case


LEDGER = "  ledger: {listed: true, fields: [topic]}\n"


def test_the_shipped_files_name_their_ledger_fields():
    assert get_mechanism("demand").definition.public.ledger.fields == ["topic"]
    assert get_mechanism("hazard").definition.public.ledger.fields == ["hazard_place"]


def test_ledger_fields_are_shown_redacted(client, world):
    case = demand(world)
    (item,) = public_items([case])
    assert item.details == [("问题领域", "路灯 139****5678")]
    body = client.get(f"/portal/ledger/{case.number}/").content.decode()
    assert "问题领域" in body and "139****5678" in body and "13912345678" not in body
    listed = client.get("/portal/ledger/?status=open").content.decode()
    assert "问题领域：路灯 139****5678" in listed


def test_a_mechanism_kept_out_of_the_ledger(client, world, tmp_path):
    with edited(tmp_path, "demand.yaml", LEDGER, "  ledger: {listed: false}\n"):
        case = demand(world)
        assert is_public(case) and not is_public(case, ledger=True)  # Open311 still serves it
        assert case in public_cases() and case not in public_cases(ledger=True)
        assert client.get(f"/portal/ledger/{case.number}/").status_code == 404
        assert case.number not in client.get("/portal/ledger/?status=open").content.decode()
        assert not any(code.startswith("demand") for code, _ in kind_options())
        assert error_of(lambda: do_metoo(world.resident, case.number)).status == 404


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("  ledger: {fields: [topik]}\n", "未知的表单字段 'topik'"),
        ("  ledger: {fields: [caller_name]}\n", "是个人信息"),
        ("  ledger: {fields: [caller_told]}\n", "未标为 public: true"),
        ("  ledger: {fields: [topic, topic]}\n", "重复的字段 'topic'"),
        ("  ledger: {listed: false, fields: [topic]}\n", "此项不会生效"),
        ("  ledger: {lsited: false}\n", "lsited"),
    ],
)
def test_ledger_flags_are_checked_when_loading(tmp_path, new, message):
    directory = tmp_path / "m"
    shutil.copytree(settings.TAIZHANG_MECHANISM_DIR, directory)
    path = directory / "demand.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(LEDGER, new), encoding="utf-8")
    with pytest.raises(MechanismError) as info:
        load_directory(directory)
    assert message in str(info.value) and "demand.yaml" in str(info.value)
