"""Every change of an item is an append-only history row, hash-chained by the cases' chain function;
`taizhang audit verify` checks register chains and finds a tampered row or item."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from taizhang.cases.hashchain import chain_digest
from taizhang.registers.actions import ItemInput, do_assess_item, do_change_item
from taizhang.registers.models import ItemEvent, RegisterItem
from taizhang.registers.recording import event_digest
from taizhang.registers.verify import verify_registers
from tests.cases.helpers import error_of

from .helpers import ours, theirs


def problems() -> list[str]:
    out: list[str] = []
    verify_registers(out.append)
    return out


def test_reassessment_keeps_the_earlier_assessment(world):
    b = theirs(world)
    do_assess_item(
        world.leader, b.number, {"risk_level": "major", "assessed_on": "2026-03-01"}, "LEC 复评 D=400"
    )
    rows = list(ItemEvent.objects.filter(item=b).order_by("seq"))
    assert [r.kind for r in rows] == ["create", "assess"]
    assert rows[0].changes["fields.risk_level"] == [None, "larger"]
    assert rows[1].changes["fields.risk_level"] == ["larger", "major"]
    assert rows[1].opinion == "LEC 复评 D=400"
    assert RegisterItem.objects.get(pk=b.pk).data["risk_level"] == "major"


def test_assessment_fields_only_through_an_assessment(world):
    b = theirs(world)
    err = error_of(
        lambda: do_change_item(
            world.leader, b.number, ItemInput(fields={"risk_level": "low"}, given=frozenset())
        )
    )
    assert err.status == 422 and err.errors[0].code == "assessment_only"
    err = error_of(lambda: do_assess_item(world.leader, b.number, {"employees": 3}, "x"))
    assert err.errors[0].code == "not_assessed"
    err = error_of(lambda: do_assess_item(world.leader, b.number, {"risk_level": "low"}, ""))
    assert err.errors[0].field == "opinion"
    assert ItemEvent.objects.filter(item=b).count() == 1  # nothing half-written


def test_chain_uses_the_shared_function_and_verifies(world):
    a = ours(world)
    do_change_item(world.grid_worker, a.number, ItemInput(fields={"employees": 35}, given=frozenset()))
    rows = list(ItemEvent.objects.filter(item=a).order_by("seq"))
    assert rows[1].prev_hash == rows[0].hash and rows[0].prev_hash == ""
    assert rows[1].hash == event_digest(rows[1])
    assert chain_digest("", {"x": 1}) != chain_digest("a", {"x": 1})
    assert problems() == []


def test_history_rows_are_append_only(world):
    a = ours(world)
    row = ItemEvent.objects.get(item=a)
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        ItemEvent.objects.filter(item=a).update(opinion="改")
    with pytest.raises(PermissionError):
        ItemEvent.objects.filter(item=a).delete()
    with pytest.raises(PermissionError):
        row.delete()
    with (
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cur,
    ):  # the database refuses too
        cur.execute("UPDATE registers_itemevent SET opinion = 'x' WHERE id = %s", [row.pk])


def tamper(sql: str, params: list) -> None:
    """Rewrite a row behind the ORM and the trigger (what an intruder with the database would do); the
    dropped trigger comes back when the test's transaction is rolled back."""
    with connection.cursor() as cur:
        on = " ON registers_itemevent" if connection.vendor == "postgresql" else ""
        cur.execute("DROP TRIGGER IF EXISTS registers_itemevent_append_only" + on)
        cur.execute(sql, params)


def test_audit_verify_finds_a_tampered_history_row(world):
    a = ours(world)
    tamper("UPDATE registers_itemevent SET opinion = %s WHERE item_id = %s", ["改过的说明", a.pk])
    found = problems()
    assert any("台账哈希链断裂" in p and a.number in p for p in found)
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify", stdout=io.StringIO(), stderr=io.StringIO())
    assert a.number in str(info.value)


def test_audit_verify_finds_an_item_row_changed_behind_the_actions(world):
    a, b = ours(world), theirs(world)
    RegisterItem.objects.filter(pk=b.pk).update(data={**b.data, "risk_level": "low"})
    RegisterItem.objects.filter(pk=a.pk).update(division=world.other_grid)
    found = problems()
    assert any(b.number in p and "fields.risk_level" in p for p in found)
    assert any(a.number in p and "division_id" in p for p in found)


def test_audit_verify_passes_and_counts_registers(world):
    ours(world)
    out = io.StringIO()
    call_command("audit", "verify", stdout=out, stderr=io.StringIO())
    assert "台账：1 个条目，1 条记录已校验" in out.getvalue()
