"""`taizhang demo`: a whole district with every role, state, grade and channel, built through the actions layer."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from taizhang.cases.models import Attachment, Case, Transition
from taizhang.clock.clock import get_clock, reset_clock
from taizhang.mechanisms.registry import get_mechanism
from taizhang.org.models import Division, Membership, User
from taizhang.org.roles import Role

# A fixed "now" keeps the test independent of the weekday and the holidays around the real date.
NOW = datetime.fromisoformat("2026-11-20T10:00:00+08:00")


@pytest.fixture
def weekends(settings):
    """Deadlines reach into a year whose holidays the calendar package may not know yet."""
    settings.TAIZHANG_CALENDAR_UNKNOWN_YEAR = "weekends"
    reset_clock()


def demo(**options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("demo", now=NOW.isoformat(), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def histories() -> dict[int, list[Transition]]:
    rows: dict[int, list[Transition]] = defaultdict(list)
    for row in Transition.objects.order_by("case_id", "seq").prefetch_related("attachments"):
        rows[row.case_id].append(row)
    return rows


@pytest.mark.django_db
def test_demo_builds_a_whole_district(weekends):
    out, err = demo(cases=60, seed=7)
    assert err == ""  # no story step was refused by the actions layer
    mech = get_mechanism("hazard")
    cases = list(Case.objects.all())
    assert len(cases) == 60
    assert {c.state for c in cases} == set(mech.states)
    assert {c.grade for c in cases} == {g.code for g in mech.definition.grades}
    # Every channel a person reports through; `open311` is only for other systems.
    assert {c.channel for c in cases} == {ch.code for ch in mech.definition.channels} - {"open311"}
    assert {c.region for c in cases} == {"LZQ"}

    # The org tree: the source documents' places, 2–4 communities per street, 1–3 grids per community.
    streets = Division.objects.filter(level="street")
    assert {"WMJD", "XBTZ", "YXZL", "CBZJD"} <= {s.code for s in streets}
    for street in streets:
        assert 2 <= street.children.count() <= 4
        for community in street.children.all():
            assert 1 <= community.children.count() <= 3
    assert Division.objects.get(code="XJJD-LHC-01").name == "莲花池社区第一网格"

    # Every role is held by someone; residents have no node; everyone shares the demo password.
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)
    for m in Membership.objects.filter(role=Role.RESIDENT):
        assert m.division_id is None and m.unit_id is None
    assert User.objects.get(username="wangge_wmjd_wm_01").check_password("taizhang2026")

    # Timers: some cases are overdue and escalated now; the luzhou pack's limits apply (5 工作日).
    assert any(c.is_overdue for c in cases)
    assert any(c.supervision_level >= 2 and c.supervising_division_id for c in cases)
    assert Transition.objects.filter(changes__limit_text__1="5个工作日").exists()

    rows = histories()
    codes = {(r.kind, r.code) for case_rows in rows.values() for r in case_rows}
    for expected in [
        ("transition", "fix_on_spot"),
        ("transition", "return"),
        ("transition", "rework"),
        ("request", "extend"),
        ("approve", "extend"),
        ("request", "park"),
        ("approve", "park"),
        ("transition", "cordon"),
        ("transition", "lift_cordon"),
        ("transition", "refuse"),
        ("transition", "enforced"),
        ("transition", "urge"),
        ("transition", "flag"),
        ("timer", "remind"),
        ("timer", "overdue"),
        ("timer", "escalate"),
    ]:
        assert expected in codes, expected

    # Histories are append-only and consistent: numbered, chained, in time order, state to state,
    # within the 90 days before "now", with photos wherever the mechanism demands them.
    for case in cases:
        history = rows[case.pk]
        assert [r.seq for r in history] == list(range(1, len(history) + 1))
        assert history[0].kind == "create" and history[0].from_state == ""
        assert case.version == len(history) and case.last_hash == history[-1].hash
        assert history[-1].to_state == case.state
        for before, after in zip(history, history[1:], strict=False):
            assert after.prev_hash == before.hash
            assert after.from_state == before.to_state
            assert before.created_at <= after.created_at
        assert NOW - timedelta(days=91) <= history[0].created_at and history[-1].created_at <= NOW
        for r in history:
            if r.kind == "transition" and r.code in ("fix_on_spot", "rectified", "enforced"):
                assert any(a.content_type == "image/jpeg" for a in r.attachments.all())
    assert Attachment.objects.filter(transition__isnull=True).count() == 0  # every upload is in a record

    audit = io.StringIO()
    call_command("audit", "verify", stdout=audit)
    assert "哈希链完好" in audit.getvalue()

    # The account table names the password and one account of every role.
    assert "taizhang2026" in out
    for role in Role:
        assert role.label in out


@pytest.mark.django_db
def test_if_empty_is_a_no_op_and_existing_data_is_refused(weekends):
    demo(cases=3, seed=1)
    counts = (
        Division.objects.count(),
        User.objects.count(),
        Case.objects.count(),
        Transition.objects.count(),
    )
    out, _ = demo(cases=3, seed=1, if_empty=True)
    assert "已有数据" in out
    assert counts == (
        Division.objects.count(),
        User.objects.count(),
        Case.objects.count(),
        Transition.objects.count(),
    )
    with pytest.raises(CommandError, match="已有数据"):
        demo(cases=3, seed=1)


class Undo(Exception):
    pass


@pytest.mark.django_db
def test_same_seed_and_now_give_the_same_demo(weekends):
    def build() -> list[tuple]:
        try:
            with transaction.atomic():
                demo(cases=15, seed=42)
                snapshot = list(
                    Case.objects.order_by("number").values_list(
                        "number",
                        "title",
                        "state",
                        "grade",
                        "channel",
                        "division__code",
                        "unit__code",
                        "due_at",
                    )
                )
                raise Undo(snapshot)
        except Undo as undo:
            return undo.args[0]

    first = build()
    assert len(first) == 15
    assert build() == first


@pytest.mark.django_db
def test_an_unknown_calendar_year_is_refused_with_the_remedy(settings):
    settings.TAIZHANG_CALENDAR_UNKNOWN_YEAR = "error"
    reset_clock()
    if get_clock().calendar.known(NOW.year + 1):
        pytest.skip("the calendar package already knows next year's holidays")
    with pytest.raises(CommandError, match="TAIZHANG_CALENDAR_UNKNOWN_YEAR"):
        demo(cases=3)
    assert not Division.objects.exists()
