"""The transition hot path: the acting fetch (one statement: case, parties, roles, last actor) agrees with
the permission-aware queryset, and the write batch (one statement on PostgreSQL) writes all or nothing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from taizhang.cases.actions import get_case
from taizhang.cases.fetch import division_chain, fetch_for_acting
from taizhang.cases.models import Attachment, Case, CaseParty, Transition
from taizhang.cases.parties import parties_of
from taizhang.org.models import Membership, User
from taizhang.org.scopes import grants_of
from tests.cases import test_petition_mechanism as petition_tests
from tests.cases.helpers import act, error_of, fresh, report
from tests.cases.test_petition_mechanism import petition, to_handling

px = petition_tests.px
frozen = petition_tests.frozen


def person(username: str, role: str, **node) -> User:
    user = User.objects.create_user(username=username, password="pw")
    Membership.objects.create(user=user, role=role, **node)
    return user


def varied_cases(world, px, photo) -> list[Case]:
    """Cases whose parties differ: new, handed to a bureau, rectified with a photo, a petition (read
    through its place by 信访 staff only), handed on after a return."""
    cases = [report(world, title="待立案")]
    handed = report(world, title="交办")
    act(world.dispatcher, handed, "register")
    act(world.dispatcher, handed, "assign", params={"unit": world.safety_bureau.code})
    cases.append(handed)
    done = report(world, title="整改完成")
    act(world.dispatcher, done, "register")
    act(world.dispatcher, done, "assign", params={"unit": world.safety_bureau.code})
    act(world.handler, done, "sign")
    act(world.handler, done, "rectified", attachments=[photo(world.handler)])
    cases.append(done)
    moved = report(world, title="退回后改交")
    act(world.dispatcher, moved, "register")
    act(world.dispatcher, moved, "assign", params={"unit": world.safety_bureau.code})
    act(world.handler, moved, "return")
    act(world.dispatcher, moved, "assign", params={"unit": world.other_unit.code})
    cases.append(moved)
    cases.append(to_handling(px, petition(world)))
    cases.append(report(world, user=world.resident, title="居民随手拍"))
    return cases


def test_the_acting_fetch_sees_what_the_queryset_sees(world, px, photo):
    cases = varied_cases(world, px, photo)
    admin = User.objects.create_superuser(username="root", password="pw")
    people = [*world.personas().values(), world.other_handler, admin, px.intake, px.reviewer]
    people.append(person("qu-ld", "leader", division=world.district))
    seen = 0
    for user in people:
        for case in cases:
            fresh_user = User.objects.get(pk=user.pk)  # no cached roles: the fetch loads them
            by_queryset = Case.objects.for_user(fresh_user, "act").filter(pk=case.pk).exists()
            found = fetch_for_acting(User.objects.get(pk=user.pk), {"pk": case.pk})
            assert (found is not None) == by_queryset, (user.username, case.title)
            seen += by_queryset
    assert 0 < seen < len(people) * len(cases)  # some see, some do not: the test can fail both ways


def test_the_acting_fetch_brings_roles_parties_and_the_last_actor(world, photo):
    case = report(world)
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    act(world.handler, case, "sign")
    act(world.handler, case, "rectified", attachments=[photo(world.handler)])
    verifier = User.objects.get(pk=world.verifier.pk)
    with CaptureQueriesContext(connection) as ctx:
        found = get_case(verifier, case.number, "act", code="pass")
        grants = grants_of(verifier)
        nodes = parties_of(found)
        division, unit = found.division, found.unit
    assert len(ctx.captured_queries) == 1
    expected = [
        (m.role, m.division_id, m.unit_id) for m in Membership.objects.filter(user=verifier, active=True)
    ]
    assert [(g.role, g.division and g.division.pk, g.unit and g.unit.pk) for g in grants] == expected
    stored = [(p.kind, p.path, p.division_id, p.unit_id, p.pk) for p in fresh(case).parties.order_by("pk")]
    assert [(p.kind, p.path, p.division_id, p.unit_id, p.id) for p in nodes] == stored
    assert (division.pk, unit.pk) == (case.division_id, world.safety_bureau.pk)
    assert found._last_actor == ("pass", world.handler.pk)
    assert found.data == fresh(case).data and found.due_at == fresh(case).due_at


def test_an_unseen_or_unknown_case_is_none(world):
    case = report(world)
    assert fetch_for_acting(world.outsider, {"pk": case.pk}) is None
    assert fetch_for_acting(world.dispatcher, {"pk": case.pk + 1000}) is None
    assert fetch_for_acting(world.dispatcher, {"number": case.number}).pk == case.pk


def test_a_report_reads_its_place_and_the_reporters_roles_in_one_statement(world):
    user = User.objects.get(pk=world.grid_worker.pk)
    with CaptureQueriesContext(connection) as ctx:
        division, chain = division_chain(user, world.grid.code)
        grants = grants_of(user)
    assert len(ctx.captured_queries) == 1
    assert division.pk == world.grid.pk
    assert [d.code for d in chain] == world.grid.ancestor_codes()
    assert [g.role for g in grants] == ["grid_worker"]
    assert division_chain(user, "NO-SUCH")[0] is None


def test_rule_a_lost_compare_and_swap_writes_nothing(world):
    case = report(world)
    stale = fetch_for_acting(world.dispatcher, {"pk": case.pk})
    act(world.dispatcher, case, "register")  # somebody else acts first
    rows = Transition.objects.count()
    from taizhang.cases.actions import TransitionRequest, check_transition, execute
    from taizhang.cases.recording import Recorder
    from taizhang.clock.now import now

    recorder = Recorder(stale)

    plan = check_transition(world.dispatcher, stale, TransitionRequest("reject", opinion="不属实"))
    execute(plan, world.dispatcher, plan.role, now(), recorder)
    err = error_of(recorder.commit)
    assert err.code == "stale_version"
    assert Transition.objects.count() == rows
    assert fresh(case).state == "registered"


def test_rule_a_photo_taken_meanwhile_leaves_nothing_written(world, photo):
    """The photo was free when checked and taken by another record before the write: 409, and the
    transaction the action runs in undoes the case row and history row of the same statement."""
    from django.db import transaction

    from taizhang.cases.actions import TransitionRequest, check_transition, execute
    from taizhang.cases.recording import Recorder
    from taizhang.clock.now import now

    case = report(world)
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    act(world.handler, case, "sign")
    picture = photo(world.handler)
    acting = fetch_for_acting(world.handler, {"pk": case.pk})
    plan = check_transition(
        world.handler, acting, TransitionRequest("rectified", opinion="已整改", attachments=[picture])
    )
    Attachment.objects.filter(pk=picture).update(transition=Transition.objects.filter(case=case).first())
    rows, version = Transition.objects.filter(case=case).count(), fresh(case).version
    recorder = Recorder(acting)
    execute(plan, world.handler, plan.role, now(), recorder)
    with pytest.raises(Exception) as info, transaction.atomic():
        recorder.commit()
    assert getattr(info.value, "code", None) == "attachment_taken"
    assert Transition.objects.filter(case=case).count() == rows
    assert fresh(case).version == version and fresh(case).state == "rectifying"


def test_party_changes_are_written_with_the_history_row(world):
    case = report(world)
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    act(world.handler, case, "return")
    with CaptureQueriesContext(connection) as ctx:
        act(world.dispatcher, case, "assign", params={"unit": world.other_unit.code})
    kinds = {(p.kind, p.unit_id) for p in CaseParty.objects.filter(case=case) if p.unit_id}
    assert ("lead", world.other_unit.pk) in kinds and ("former", world.safety_bureau.pk) in kinds
    writes = [
        q["sql"] for q in ctx.captured_queries if "cases_caseparty" in q["sql"] and "INSERT" in q["sql"]
    ]
    if connection.vendor == "postgresql":  # one statement: the case, its history row and its parties
        assert len(writes) == 1 and "cases_transition" in writes[0] and "cases_case" in writes[0]


def test_a_hazard_case_through_its_loop_stays_within_its_statements(world, photo):
    """The bench's loop (report → 立案 → 交办 → 签收 → 整改完成 with a photo → 复核销号), each action with
    the person's roles loaded afresh as in a request: 30 statements on PostgreSQL, BEGIN and COMMIT
    included (#13's measure); SQLite runs the write steps one by one."""
    from taizhang.org.scopes import forget_grants

    picture = photo(world.handler)
    counts = []

    def step(user, fn):
        forget_grants(user)
        with CaptureQueriesContext(connection) as ctx:
            result = fn()
        counts.append(len(ctx.captured_queries))
        return result

    report(world)  # the year's number sequence exists from here on
    case = step(world.grid_worker, lambda: report(world))
    step(world.dispatcher, lambda: act(world.dispatcher, case, "register"))
    step(
        world.dispatcher,
        lambda: act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code}),
    )
    step(world.handler, lambda: act(world.handler, case, "sign"))
    step(world.handler, lambda: act(world.handler, case, "rectified", attachments=[picture]))
    step(world.verifier, lambda: act(world.verifier, case, "pass"))
    assert fresh(case).state == "closed"
    assert sum(counts) <= (30 if connection.vendor == "postgresql" else 43), counts


def test_rule_only_changed_columns_are_written_and_a_refreshed_case_writes_them_all(world):
    from taizhang.cases.recording import changed_values

    case = report(world)
    stored = Case.objects.get(pk=case.pk)
    assert set(changed_values(stored)) == {"data", "pending"}  # JSON may change in place: always written
    stored.title = "新标题"
    assert set(changed_values(stored)) == {"data", "pending", "title"}
    stored.refresh_from_db()
    assert "state" in changed_values(stored) and "title" in changed_values(stored)


def test_the_acting_fetch_converts_every_column_as_the_orm_does(world):
    """Decimals (the coordinates), datetimes and JSON come back as the queryset gives them."""
    case = report(world, lat="36.192832", lon="113.116501", fields={"hazard_place": "三楼"})
    found = fetch_for_acting(world.dispatcher, {"pk": case.pk})
    stored = Case.objects.get(pk=case.pk)
    for f in Case._meta.concrete_fields:
        assert getattr(found, f.attname) == getattr(stored, f.attname), f.attname
    assert str(found.lat) == "36.192832" and found.data["hazard_place"] == "三楼"
