"""Two people acting on one case at the same moment: exactly one wins, the other gets 409, nothing half-written."""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.db import connection

from taizhang.cases import actions
from taizhang.cases.actions import TransitionRequest, do_transition
from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.hashchain import verify_case
from taizhang.cases.models import Case, IdempotencyKey
from taizhang.errors import ActionError

from .helpers import act, report

pytestmark = pytest.mark.django_db(transaction=True)


def race(*calls) -> list:
    """Run the calls in threads, each in its own connection; returns results or exceptions in order."""
    out: list = [None] * len(calls)

    def run(i, call):
        try:
            out[i] = call()
        except Exception as exc:
            out[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row-level concurrency needs PostgreSQL")
def test_two_simultaneous_transitions_one_wins(world, monkeypatch):
    case = report(world)
    act(world.dispatcher, case, "register")
    barrier = threading.Barrier(2)
    original = actions.check_transition

    def check_then_wait(*args, **kwargs):  # both have read and checked the case before either writes
        plan = original(*args, **kwargs)
        barrier.wait(timeout=10)
        return plan

    monkeypatch.setattr(actions, "check_transition", check_then_wait)
    results = race(
        lambda: do_transition(
            world.dispatcher,
            case.pk,
            TransitionRequest("assign", opinion="交应急局", params={"unit": world.safety_bureau.code}),
        ),
        lambda: do_transition(
            world.leader,
            case.pk,
            TransitionRequest("assign", opinion="交住建局", params={"unit": world.housing_bureau.code}),
        ),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], ActionError), results
    assert (errors[0].status, errors[0].code) == (409, "stale_version")
    case = Case.objects.get(pk=case.pk)
    assert case.version == 3 and case.transitions.count() == 3
    winner = case.transitions.last()
    assert case.unit.code == winner.changes["unit_id"][1] or case.unit_id == winner.changes["unit_id"][1]
    assert verify_case(case) is None


def test_concurrent_creations_get_distinct_numbers(world):
    def make(i):
        return lambda: report(world, title=f"并发上报 {i}")

    results = race(*(make(i) for i in range(4)))
    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = sorted(Case.objects.values_list("number", flat=True))
    assert len(numbers) == 4 and len(set(numbers)) == 4


def test_simultaneous_retries_with_one_idempotency_key_make_one_case(world):
    data = CaseInput(
        mechanism="hazard", title="电动车楼道充电", division=world.grid.code, category="electrical"
    )
    results = race(*(lambda: do_create_case(world.grid_worker, data, "retry-1") for _ in range(3)))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Case.objects.count() == 1 and IdempotencyKey.objects.count() == 1
    assert len({case.pk for case, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, True]


def test_a_photo_cannot_be_claimed_by_two_records(world, photo):
    """Two checks pass for the same unused photo; the second write must fail cleanly, not steal it."""
    from taizhang.cases.create import check_create_case, insert_case
    from taizhang.clock.now import now

    photo_id = photo(world.grid_worker)
    data = CaseInput(
        mechanism="hazard",
        title="同一张照片",
        division=world.grid.code,
        category="fire",
        attachments=[photo_id],
    )
    first, second = check_create_case(world.grid_worker, data), check_create_case(world.grid_worker, data)
    insert_case(world.grid_worker, data, first, now())
    with pytest.raises(ActionError) as info:
        from django.db import transaction

        with transaction.atomic():
            insert_case(world.grid_worker, data, second, now())
    assert (info.value.status, info.value.code) == (409, "attachment_taken")
    assert Case.objects.count() == 1
    call_command("audit", "verify")


def test_an_external_id_is_one_case(world):
    data = CaseInput(
        mechanism="hazard",
        title="外部系统工单",
        division=world.grid.code,
        category="fire",
        channel="hotline",
        external_id="EXT-1",
    )
    do_create_case(world.dispatcher, data)
    with pytest.raises(ActionError) as info:
        do_create_case(world.dispatcher, data)
    assert (info.value.status, info.value.code) == (409, "duplicate_external_id")
