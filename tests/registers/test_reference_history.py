"""Every value a case's reference field takes is a row (`ItemReference`) written with its history row: the
item's page and API list every case that ever named the item (through Case.objects.for_user), marking
those that name another item today; existing cases get their rows from their history (migration 0004)."""

from __future__ import annotations

from django.test import Client

from taizhang.cases.models import Case, Transition
from taizhang.registers.models import ItemReference, RegisterItem
from taizhang.registers.reference_rebuild import rebuild_references, reference_fields
from tests.cases.helpers import act, report

from .helpers import ours, theirs


def rows_of(case):
    return list(ItemReference.objects.filter(case_id=case.pk).order_by("id").values_list("field", "item_id"))


def two_items(world):
    a = ours(world)
    b = ours(world, name="永兴木材加工厂", fields={"credit_code": "91140400MA0K9999Z3"})
    return a, b


def test_a_report_and_each_change_of_the_reference_write_a_row(world):
    a, b = two_items(world)
    case = report(world, fields={"enterprise_item": a.number})
    assert rows_of(case) == [("enterprise_item", a.number)]
    act(world.dispatcher, case, "register")  # no change of the field: no row
    assert rows_of(case) == [("enterprise_item", a.number)]
    act(
        world.dispatcher,
        case,
        "assign",
        params={"unit": world.safety_bureau.code},
        fields={"enterprise_item": b.number},
    )
    assert rows_of(case) == [("enterprise_item", a.number), ("enterprise_item", b.number)]
    row = ItemReference.objects.filter(case_id=case.pk).order_by("id").last()
    assert row.since == Case.objects.get(pk=case.pk).updated_at  # the time of the history row that set it


def test_a_case_read_again_compares_with_its_latest_row(world):
    a, b = two_items(world)
    case = report(world, fields={"enterprise_item": a.number})
    case = Case.objects.get(pk=case.pk)
    case.refresh_from_db()  # what was read no longer tells the values before
    from taizhang.cases.recording import Recorder

    recorder = Recorder(case)
    recorder.commit()  # nothing changed: no row
    assert rows_of(case) == [("enterprise_item", a.number)]


def test_the_earlier_item_still_lists_the_case_marked_as_no_longer_about_it(world):
    a, b = two_items(world)
    case = report(world, title="车间消防通道堵塞", fields={"enterprise_item": a.number})
    act(world.dispatcher, case, "register", fields={"enterprise_item": b.number})
    client = Client()
    client.force_login(world.dispatcher)
    cases = client.get(f"/api/v1/register-items/{a.number}").json()["cases"]
    assert [(c["number"], c["current"]) for c in cases] == [(case.number, False)]
    cases = client.get(f"/api/v1/register-items/{b.number}").json()["cases"]
    assert [(c["number"], c["current"]) for c in cases] == [(case.number, True)]
    page = client.get(f"/registers/items/{a.number}/").content.decode()
    former = page[page.index("data-former-cases") :]
    assert case.number in former and "曾经相关的案件" in page


def test_a_cleared_reference_leaves_the_case_on_the_item_as_former(world):
    a, _ = two_items(world)
    case = report(world, fields={"enterprise_item": a.number})
    act(world.dispatcher, case, "register", fields={"enterprise_item": None})
    assert Case.objects.get(pk=case.pk).data.get("enterprise_item") is None
    client = Client()
    client.force_login(world.dispatcher)
    cases = client.get(f"/api/v1/register-items/{a.number}").json()["cases"]
    assert [(c["number"], c["current"]) for c in cases] == [(case.number, False)]


def test_a_reader_sees_on_the_item_only_the_cases_they_may_see(world):
    b = theirs(world)  # 白兔村, the enterprise's own unit: its officer sees the item
    case = report(
        world, user=world.outsider, division=world.other_grid.code, fields={"enterprise_item": b.number}
    )
    officer, leader = Client(), Client()
    officer.force_login(world.enterprise_officer)
    leader.force_login(world.leader)
    assert officer.get(f"/api/v1/register-items/{b.number}").json()["cases"] == []
    assert [c["number"] for c in leader.get(f"/api/v1/register-items/{b.number}").json()["cases"]] == [
        case.number
    ]


def test_the_migration_rebuilds_the_rows_from_history(world):
    a, b = two_items(world)
    first = report(world, fields={"enterprise_item": a.number})
    act(world.dispatcher, first, "register", fields={"enterprise_item": b.number})
    second = report(world, fields={"enterprise_item": b.number})
    plain = report(world)
    written = {c.pk: rows_of(c) for c in (first, second, plain)}
    ItemReference.objects.all().delete()
    models = {
        "Case": Case,
        "Transition": Transition,
        "ItemReference": ItemReference,
        "RegisterItem": RegisterItem,
    }
    assert reference_fields() == {"hazard": ["enterprise_item"]}
    rebuild_references(models, reference_fields(), batch=1)
    assert {c.pk: rows_of(c) for c in (first, second, plain)} == written
    times = dict(ItemReference.objects.filter(case_id=first.pk).values_list("item_id", "since"))
    assert times[a.number] == first.created_at
    assert times[b.number] == Transition.objects.get(case_id=first.pk, code="register").created_at
