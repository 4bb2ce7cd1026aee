"""A case's `reference` field names a register item the reporter may see; the item's page lists every
case about it that the reader may see (through Case.objects.for_user)."""

from __future__ import annotations

import pytest
from django.test import Client

from taizhang.mechanisms.errors import MechanismError
from taizhang.mechanisms.registry import load_directory
from tests.cases.helpers import act, error_of, report

from .helpers import ours, theirs


def test_a_case_names_an_item_its_reporter_sees(world):
    a = ours(world)
    case = report(world, fields={"enterprise_item": a.number})
    assert case.data["enterprise_item"] == a.number


@pytest.mark.parametrize("number", ["QY-000002", "QY-999999"])
def test_an_unseen_or_missing_item_is_the_same_error(world, number):
    theirs(world)  # QY-000001 belongs to 西白兔镇: the grid worker of 和心社区 does not see it
    ours(world)
    number = "QY-000001" if number == "QY-000002" else number
    err = error_of(lambda: report(world, fields={"enterprise_item": number}))
    assert err.status == 422
    (field,) = err.errors
    assert field.field == "fields.enterprise_item" and field.code == "unknown_item"
    assert "找不到台账条目" in field.message


def test_a_transition_checks_the_reference_too(world):
    b = theirs(world)
    case = report(world)
    err = error_of(lambda: act(world.dispatcher, case, "register", fields={"enterprise_item": b.number}))
    assert err.errors[0].code == "unknown_item"


def test_the_item_page_lists_the_cases_about_it_that_the_reader_sees(world):
    a = ours(world)
    first = report(world, title="车间消防通道堵塞", fields={"enterprise_item": a.number})
    second = report(world, title="配电箱未接地", fields={"enterprise_item": a.number})
    other = report(world, title="无关的隐患")
    client = Client()
    client.force_login(world.dispatcher)
    page = client.get(f"/registers/items/{a.number}/").content.decode()
    assert first.number in page and second.number in page and other.number not in page
    assert page.index(first.number) < page.index(second.number)  # over time, oldest first
    detail = client.get(f"/api/v1/register-items/{a.number}").json()
    assert [c["number"] for c in detail["cases"]] == [first.number, second.number]
    # the district's leader sees the item; the inspector too; a case they do not see is never listed
    inspector = Client()
    inspector.force_login(world.inspector)
    assert first.number in inspector.get(f"/registers/items/{a.number}/").content.decode()


def test_a_reference_must_name_a_loaded_register(tmp_path, settings):
    import shutil
    from pathlib import Path

    shutil.copytree(Path(settings.TAIZHANG_MECHANISM_DIR), tmp_path / "m")
    (tmp_path / "m" / "enterprise.yaml").unlink()
    with pytest.raises(MechanismError) as info:
        load_directory(tmp_path / "m")
    (problem,) = info.value.problems
    assert problem.file == "hazard.yaml" and "未知的台账 'enterprise'" in problem.message
