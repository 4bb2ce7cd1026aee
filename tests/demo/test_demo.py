"""`taizhang demo`: a whole district with every role, state, grade and channel, built through the actions layer."""

from __future__ import annotations

import io
import json
import re
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

import taizhang.demo as demo_package
from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Attachment, Case, Transition
from taizhang.clock.clock import get_clock, reset_clock
from taizhang.demo.demand_catalog import TOPICS
from taizhang.demo.geo import nearest_street
from taizhang.demo.topic_model import train_demo_model
from taizhang.insight.classify.store import active_version
from taizhang.insight.kpi import KpiRequest, kpi_report
from taizhang.intake.open311.locate import contains
from taizhang.mechanisms.registry import get_mechanism
from taizhang.org.models import Division, Membership, User
from taizhang.org.roles import Role
from tests.demo.bodies import check_hazard_bodies, check_petition_bodies

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
    out, err = demo(cases=60, seed=7, demands=0, petitions=0)
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

    # Parties (issue #13): the supervising body verifies and approves, both as a division (街道, 区) and
    # through its department (街道应急办, 区应急管理局); 联合执法 leaves the unit responsible.
    verified_by = check_hazard_bodies(cases, rows)
    assert verified_by["Division"] and not verified_by["Unit"], verified_by

    audit = io.StringIO()
    call_command("audit", "verify", stdout=audit)
    assert "哈希链完好" in audit.getvalue()

    # The account table names the password and one account of every role.
    assert "taizhang2026" in out
    for role in Role:
        assert str(role.label) in out


@pytest.mark.django_db
def test_if_empty_is_a_no_op_and_existing_data_is_refused(weekends):
    demo(cases=3, seed=1, demands=3, petitions=1)
    counts = (
        Division.objects.count(),
        User.objects.count(),
        Case.objects.count(),
        Transition.objects.count(),
    )
    out, _ = demo(cases=3, seed=1, demands=3, petitions=1, if_empty=True)
    assert "已有数据" in out
    assert counts == (
        Division.objects.count(),
        User.objects.count(),
        Case.objects.count(),
        Transition.objects.count(),
    )
    with pytest.raises(CommandError, match="已有数据"):
        demo(cases=3, seed=1, demands=3, petitions=1)


class Undo(Exception):
    pass


@pytest.mark.django_db
def test_same_seed_and_now_give_the_same_demo(weekends):
    def build() -> list[tuple]:
        try:
            with transaction.atomic():
                demo(cases=15, seed=42, demands=20, petitions=4)
                snapshot = list(
                    Case.objects.order_by("number").values_list(
                        "number",
                        "data",
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
    assert len(first) == 15 + 20 + 4
    assert build() == first


@pytest.mark.django_db
def test_an_unknown_calendar_year_is_refused_with_the_remedy(settings):
    settings.TAIZHANG_CALENDAR_UNKNOWN_YEAR = "error"
    reset_clock()
    if get_clock().calendar.known(NOW.year + 1):
        pytest.skip("the calendar package already knows next year's holidays")
    with pytest.raises(CommandError, match="TAIZHANG_CALENDAR_UNKNOWN_YEAR"):
        demo(cases=3, demands=3, petitions=1)
    assert not Division.objects.exists()


# Mobile numbers (1[3-9] and nine digits) and landlines (0355-1234567) must never appear in the demo's texts.
PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
MASKED = re.compile(r"^1\d{2}\*{4}\d{4}$")


def texts_of(case: Case, rows: list[Transition]) -> list[str]:
    out = [case.title, case.description, case.address]
    out += [str(v) for v in (case.data or {}).values()]
    for r in rows:
        out.append(r.opinion)
        out += [str(v[1]) for k, v in (r.changes or {}).items() if k.startswith("fields.")]
    return out


@pytest.mark.django_db
def test_demo_builds_demands_and_petitions(weekends):
    out, err = demo(cases=0, demands=45, petitions=12, seed=11)
    assert err == ""  # no story step was refused by the actions layer
    demand = get_mechanism("demand")
    demands = list(Case.objects.filter(mechanism="demand").prefetch_related("co_units"))
    petitions = list(Case.objects.filter(mechanism="petition"))
    assert len(demands) == 45 and len(petitions) == 12
    assert {c.state for c in demands} == set(demand.states)
    assert {
        "registered",
        "routed",
        "declined",
        "handling",
        "hearing",
        "replied",
        "reviewing",
        "review_replied",
        "concluded",
        "final",
    } <= {c.state for c in petitions}
    assert {c.channel for c in demands} == {"hotline", "web", "app"}
    assert {c.data.get("topic") for c in demands if c.state != "invalid"} <= set(TOPICS)
    assert any(c.is_overdue for c in demands if c.state == "handling")
    assert any(c.is_overdue for c in demands if c.state == "dispatched")

    rows = histories()
    codes = {(r.kind, r.code) for c in demands for r in rows[c.pk]}
    for expected in [
        ("transition", "dispatch"),
        ("transition", "sign"),
        ("transition", "return"),
        ("transition", "accept_return"),
        ("transition", "refuse_return"),
        ("request", "extend"),
        ("approve", "extend"),
        ("transition", "assist"),
        ("transition", "merge"),
        ("merge", "merge_in"),
        ("copy", "reply"),
        ("transition", "invalidate"),
        ("transition", "answer_directly"),
        ("transition", "reply"),
        ("transition", "visit_satisfied"),
        ("transition", "visit_basic"),
        ("transition", "visit_unsatisfied"),
        ("transition", "close_unreachable"),
        ("transition", "urge"),
        ("transition", "flag"),
        ("timer", "overdue"),
        ("timer", "escalate"),
    ]:
        assert expected in codes, expected
    check_petition_bodies(petitions, rows)  # 复查/复核 one level up; 延期 by the deciding body's leader
    petition_codes = {r.code for c in petitions for r in rows[c.pk]}
    assert {
        "transfer",
        "accept",
        "decline",
        "extend",
        "start_hearing",
        "reply",
        "review_reply",
    } <= petition_codes
    assert {"record_review_request", "recheck_reply", "end_recheck_hearing"} <= petition_codes

    # 并单: every merged demand points to an open-at-the-time master of the same problem, which lists it.
    merged = [c for c in demands if c.state == "merged"]
    for c in merged:
        master = c.merged_into
        assert master is not None and master.mechanism == "demand" and master.merged_into_id is None
        assert c.number in master.data["merged_from"]
        assert master.division_id == c.division_id and master.data["topic"] == c.data["topic"]
        assert master.created_at < c.created_at
    assert (
        Case.objects.filter(
            mechanism="demand", state__in=["accepted", "closed"], merged_into__isnull=False
        ).count()
        == 0
    )
    # 协办: co-units were named at dispatch and gave their part as handlers of a co-unit (`handler@co`;
    # `co_handler` is how history rows named that role before roles were relative to parties).
    assert any(c.co_units.all() for c in demands)
    assert any(r.code == "assist" and r.role == "handler@co" for c in demands for r in rows[c.pk])
    # 签收: mostly within 24 h of the (last) dispatch, sometimes late.
    waits = []
    for c in demands:
        dispatched = [r.created_at for r in rows[c.pk] if r.code == "dispatch"]
        signed = [r.created_at for r in rows[c.pk] if r.code == "sign"]
        if dispatched and signed:
            waits.append(signed[0] - dispatched[-1])
    assert sum(w <= timedelta(hours=24) for w in waits) >= 0.7 * len(waits)
    assert any(w > timedelta(hours=24) for w in waits)

    # The KPIs of the 12345 loop are computable and plausible for the district's dispatcher.
    dispatcher = User.objects.get(username="paiqian_lzq2")
    req = KpiRequest(
        mechanism="demand", start=(NOW - timedelta(days=95)).date(), end=NOW.date() + timedelta(days=1)
    )
    report = kpi_report(dispatcher, req)
    totals = report["totals"]
    assert totals["cases"] == 45
    assert totals["score"] is not None and 50 <= totals["score"] <= 100
    assert 0.5 <= totals["sign_rate"]["rate"] <= 1
    assert totals["satisfaction_rate"]["denominator"] > 0 and totals["redo_rate"]["numerator"] > 0
    assert len([g for g in report["groups"] if g["code"]]) >= 5

    # Texts: invented people with masked numbers only; places inside their street's area.
    for c in demands + petitions:
        for text in texts_of(c, rows[c.pk]):
            assert not PHONE.search(text), (c.number, text)
    assert all(MASKED.match(c.data["caller_phone"]) for c in demands)
    outlines = outline_geometries()
    for c in demands:
        street = c.division.path.strip("/").split("/")[2]
        if c.lat is not None:
            assert nearest_street(float(c.lat), float(c.lon)) == street, c.number
            if outlines:
                assert contains(outlines[street], float(c.lat), float(c.lon)), c.number

    # Histories are chained, in time order, within the 90 days; the account table names the hotline's posts.
    for c in demands + petitions:
        history = rows[c.pk]
        assert [r.seq for r in history] == list(range(1, len(history) + 1))
        assert c.version == len(history) and history[-1].to_state == c.state
        for before, after in zip(history, history[1:], strict=False):
            assert after.prev_hash == before.hash and before.created_at <= after.created_at
        assert NOW - timedelta(days=91) <= history[0].created_at and history[-1].created_at <= NOW
    for username in ("paiqian_lzq2", "shouli_lzq3", "paiqian_lzq3", "chuzhi_wmjd_bsc", "chuzhi_lzq_zfb"):
        assert username in out
    assert "12345接诉即办" in out and "信访事项办理" in out


def outline_geometries() -> dict:
    """Street outlines drawn for the map (taizhang/demo/outlines.geojson), when that file is present."""
    path = Path(demo_package.__file__).parent / "outlines.geojson"
    if not path.exists():
        return {}
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return {
        f["properties"]["code"]: f["geometry"] for f in features if f["properties"].get("level") == "street"
    }


@pytest.mark.django_db
def test_the_demo_trains_a_topic_model_that_suggests_at_intake(weekends, settings):
    out, err = demo(cases=0, demands=120, petitions=0, seed=5)
    assert err == ""
    root = Path(settings.TAIZHANG_MODEL_DIR)
    version = active_version(root)
    assert version and f"训练了 {version}" in out
    taker = Membership.objects.filter(role=Role.INTAKE).order_by("pk").first().user
    street = Division.objects.filter(level="street").order_by("code").first()
    case, _ = do_create_case(
        taker,
        CaseInput(
            mechanism="demand",
            category="complaint",
            division=street.code,
            title="出租车司机不打表",
            description="来电人反映：在英雄路打车，出租车司机不打表，一口价四十元，不同意就拒载。",
            channel="hotline",
        ),
    )
    suggestion = case.data["suggestion"]
    assert suggestion["topic"] == "交通运输" and suggestion["model"] == version
    assert suggestion["decision"] in {"manual", "below_threshold"} and case.state == "accepted"
    # An active model is never replaced, and --no-model trains none.
    assert train_demo_model() == f"问题分类模型：已有当前模型 {version}，未重新训练"
    assert active_version(root) == version


@pytest.mark.django_db
def test_the_demo_without_a_model(weekends, settings):
    out, _ = demo(cases=0, demands=20, petitions=0, seed=5, no_model=True)
    assert "问题分类模型" not in out and active_version(Path(settings.TAIZHANG_MODEL_DIR)) is None


@pytest.mark.django_db
def test_a_model_that_fails_to_train_does_not_stop_the_demo(weekends, settings, monkeypatch):
    def broken(*args, **kwargs):
        raise MemoryError("no room")

    monkeypatch.setattr("taizhang.demo.topic_model.do_train", broken)
    out, _ = demo(cases=0, demands=20, petitions=0, seed=5)
    assert (
        "问题分类模型：训练失败（no room）" in out and Case.objects.filter(mechanism="demand").count() == 20
    )
    assert active_version(Path(settings.TAIZHANG_MODEL_DIR)) is None
