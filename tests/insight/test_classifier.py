"""Automatic dispatch: training, evaluation, prediction, stored models, and the suggestion at intake."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from taizhang.cases.actions import TransitionRequest, do_transition
from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Case
from taizhang.cases.system import check_system_transition
from taizhang.errors import ActionError
from taizhang.insight.classify import routing
from taizhang.insight.classify.data import read_csv
from taizhang.insight.classify.groups import duplicate_groups
from taizhang.insight.classify.intake import dispatch_if_trusted
from taizhang.insight.classify.store import (
    ACTIVE,
    MANIFEST,
    activate,
    active_model,
    forget_model,
    load_model,
)
from taizhang.mechanisms.errors import MechanismError
from tests.api.conftest import ApiClient

FIXTURES = Path(__file__).parent / "fixtures"
TRAIN = FIXTURES / "topics_train.csv"
EVAL = FIXTURES / "topics_eval.csv"
LABELS = ["交通运输", "劳动和社会保障", "城乡建设", "教育文体", "环境保护"]
SMOKE = "化工厂晚上偷排污水，河水都变黑了，气味刺鼻"  # 环境保护
ROUTES = """
mechanism: demand
field: topic
transition: dispatch
threshold: 0.9
auto_dispatch: false
units: {{}}
localities:
  LZQ:
    threshold: {threshold}
    auto_dispatch: {auto}
    units:
      城乡建设: LZQ-ZJJ
      环境保护: LZQ-SWJ
      交通运输: LZQ-ZFJ
      劳动和社会保障: LZQ-YJJ
"""


def run(*args: str) -> str:
    out = StringIO()
    call_command("insight", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A model root with one version trained on the fixture (trained once for the module)."""
    root = tmp_path_factory.mktemp("models")
    run("train", "--data", str(TRAIN), "--output", str(root))
    return root


@pytest.fixture
def models(trained, tmp_path, settings) -> Path:
    """TAIZHANG_MODEL_DIR pointing at a copy of the trained model root (tests may change it)."""
    root = tmp_path / "active-models"
    shutil.copytree(trained, root)
    settings.TAIZHANG_MODEL_DIR = root
    forget_model()
    yield root
    forget_model()


@pytest.fixture
def routes(tmp_path, monkeypatch):
    """Write dispatch rules for 潞州区 (threshold, auto-dispatch) and use them."""

    def use(threshold: float = 0.5, auto: bool = True) -> Path:
        path = tmp_path / "dispatch.yaml"
        path.write_text(ROUTES.format(threshold=threshold, auto=str(auto).lower()), encoding="utf-8")
        monkeypatch.setattr(routing, "routing_path", lambda: path)
        routing.reset_routing()
        return path

    yield use
    routing.reset_routing()


def demand(world, title: str, description: str = "", user=None, **fields) -> Case:
    data = CaseInput(
        mechanism="demand",
        title=title,
        description=description,
        division=world.grid.code,
        category="complaint",
        channel="hotline",
        fields=fields,
    )
    case, _ = do_create_case(user or world.dispatcher, data)
    return Case.objects.get(pk=case.pk)


# ------------------------------------------------------------------------------ training and models


def test_train_writes_a_versioned_model_with_its_manifest(trained):
    version = (trained / ACTIVE).read_text().strip()
    manifest = json.loads((trained / version / MANIFEST).read_text())
    assert manifest["format"] == 2 and manifest["version"] == version
    assert manifest["labels"] == LABELS
    assert manifest["training"]["rows"] == 150 and len(manifest["training"]["sha256"]) == 64
    assert manifest["training"]["label_counts"] == dict.fromkeys(LABELS, 30)
    assert manifest["libraries"]["scikit-learn"] and manifest["libraries"]["rjieba"]
    holdout = manifest["metrics"]["holdout"]
    # Held-out groups are problems written nowhere else in the fixture: a hard, small test.
    assert holdout["share"] == 0.2 and 0 < holdout["count"] < 60 and 0.3 < holdout["macro_f1"] <= 1
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{6}", version)


def test_evaluate_prints_macro_f1_per_class_scores_and_confusion_matrix(models):
    out = run("evaluate", "--data", str(EVAL), "--text-column", "标题,详情", "--label-column", "类别")
    macro = float(re.search(r"宏平均 F1（macro-F1）：([0-9.]+)", out).group(1))
    assert macro >= 0.7  # 20 messages written differently from the training fixture
    assert "准确率" in out and "精确率" in out and "召回率" in out
    matrix = out.split("混淆矩阵（行：真实类别，列：预测类别）")[1].strip().splitlines()
    assert matrix[0].split() == LABELS
    counts = {line.split()[0]: [int(x) for x in line.split()[1:]] for line in matrix[1:]}
    assert set(counts) == set(LABELS) and all(sum(row) == 4 for row in counts.values())
    assert sum(counts[label][i] for i, label in enumerate(LABELS)) >= 14  # the diagonal
    as_json = json.loads(
        run("evaluate", "--data", str(EVAL), "--text-column", "标题,详情", "--label-column", "类别", "--json")
    )
    assert as_json["macro_f1"] == pytest.approx(macro, abs=1e-4) and as_json["count"] == 20


def test_prediction_gives_a_topic_with_a_calibrated_confidence(models):
    model = active_model()
    [first, second] = model.predict([SMOKE, "公司拖欠我们三个月工资，老板电话也不接"])
    assert first.label == "环境保护" and second.label == "劳动和社会保障"
    assert 0.5 < first.confidence <= 1 and first.ranked[0] == (first.label, first.confidence)
    assert sum(p for _, p in first.ranked) <= 1.0001 and len(first.ranked) == 3
    assert active_model() is model  # loaded once, then cached


def test_a_model_of_an_older_format_is_refused_with_a_clear_error(models):
    version = (models / ACTIVE).read_text().strip()
    old = models / "old-format"
    shutil.copytree(models / version, old)
    manifest = json.loads((old / MANIFEST).read_text())
    manifest["format"] = 0
    (old / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ActionError) as info:
        load_model(old)
    assert info.value.code == "model_version_unsupported"
    assert "格式版本为 0" in info.value.message and "重新训练" in info.value.message
    with pytest.raises(CommandError, match="model_version_unsupported"):
        run(
            "evaluate",
            "--data",
            str(EVAL),
            "--model",
            str(old),
            "--text-column",
            "标题,详情",
            "--label-column",
            "类别",
        )
    with pytest.raises(ActionError, match="格式版本"):
        activate(models, "old-format")
    (models / ACTIVE).write_text("old-format\n")  # made active behind our back: intake goes on without it
    assert active_model() is None


def test_training_data_problems_are_named(tmp_path):
    with pytest.raises(CommandError, match="没有列「正文」"):
        run("train", "--data", str(TRAIN), "--text-column", "正文", "--output", str(tmp_path))
    few = tmp_path / "few.csv"
    few.write_text(
        "content,一级标签\n路灯坏了,城乡建设\n路灯不亮,城乡建设\n公交太少,交通运输\n", encoding="utf-8"
    )
    with pytest.raises(CommandError, match="交通运输"):
        run("train", "--data", str(few), "--output", str(tmp_path))
    assert read_csv(TRAIN).sha256() == read_csv(TRAIN).sha256()


def test_copies_of_a_message_fall_in_one_group():
    raw = "我家小区门口的路灯已经坏了三个月了，晚上出行非常不方便，希望有关部门尽快修理"
    segmented = "小区门口路灯坏三个月晚上出行方便希望尽快修理"  # stop words out, joined without spaces
    other = "学校门口的早餐店占道经营，学生上学很不安全，请城管部门管一管"
    groups = duplicate_groups([raw, segmented, other, raw])
    assert groups[0] == groups[1] == groups[3] != groups[2]


def test_models_and_activate_commands(models):
    first = (models / ACTIVE).read_text().strip()
    run("train", "--data", str(TRAIN), "--output", str(models), "--holdout", "0", "--no-activate")
    listing = run("models", "--output", str(models))
    assert f"* {first}" in listing and listing.count("150 条") == 2
    second = next(line.split()[0] for line in listing.splitlines() if not line.startswith("*"))
    run("activate", second, "--output", str(models))
    assert active_model().version == second  # the cache follows ACTIVE
    with pytest.raises(CommandError, match="model_not_found"):
        run("activate", "../elsewhere", "--output", str(models))


# ----------------------------------------------------------------------------------------- intake


def test_above_threshold_the_system_dispatches_through_the_engine(world, models, routes):
    routes(threshold=0.5, auto=True)
    case = demand(world, "河道被污染", SMOKE)
    suggestion = case.data["suggestion"]
    assert suggestion["topic"] == "环境保护" and suggestion["decision"] == "auto"
    assert suggestion["unit"] == "LZQ-SWJ" and suggestion["unit_name"] == "潞州区水务局"
    assert suggestion["model"] == active_model().version and suggestion["locality"] == "LZQ"
    assert case.data["topic"] == "环境保护"  # pre-filled
    assert case.state == "dispatched" and case.unit == world.other_unit
    create, dispatch = case.transitions.order_by("seq")
    assert create.kind == "create" and create.role == "dispatcher"
    assert dispatch.code == "dispatch" and dispatch.kind == "transition"
    assert dispatch.role == "system" and dispatch.actor is None and dispatch.actor_name == "系统"
    assert dispatch.opinion == (
        f"自动派单：环境保护（置信度{suggestion['confidence']:.2f}，模型{suggestion['model']}）"
    )
    assert dispatch.changes["unit_id"] == [None, world.other_unit.pk]
    assert dispatch.prev_hash == create.hash and case.version == 2
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "哈希链完好" in out.getvalue()
    # The unit takes it from there as from any dispatcher.
    do_transition(world.other_handler, case.pk, TransitionRequest(code="sign"))
    assert Case.objects.get(pk=case.pk).state == "handling"


def test_below_threshold_the_case_waits_for_a_person(world, models, routes):
    routes(threshold=1.0, auto=True)
    case = demand(world, "河道被污染", SMOKE)
    assert case.data["suggestion"]["decision"] == "below_threshold"
    assert case.data["topic"] == "环境保护"
    assert case.state == "accepted" and case.unit is None and case.transitions.count() == 1
    do_transition(world.dispatcher, case.pk, TransitionRequest(code="dispatch", params={"unit": "LZQ-SWJ"}))
    row = case.transitions.order_by("-seq").first()
    assert row.role == "dispatcher" and row.actor == world.dispatcher


def test_a_locality_without_auto_dispatch_only_suggests(world, models, routes):
    routes(threshold=0.5, auto=False)
    case = demand(world, "河道被污染", SMOKE)
    assert case.data["suggestion"]["decision"] == "manual" and case.state == "accepted"


def test_the_reporters_topic_is_kept_and_not_overruled(world, models, routes):
    routes(threshold=0.5, auto=True)
    case = demand(world, "河道被污染", SMOKE, topic="城乡建设")
    assert case.data["topic"] == "城乡建设"
    assert case.data["suggestion"]["topic"] == "环境保护"
    assert case.data["suggestion"]["decision"] == "topic_differs" and case.state == "accepted"


def test_a_topic_without_a_unit_here_is_only_suggested(world, models, routes):
    routes(threshold=0.0, auto=True)
    case = demand(world, "补课乱收费", "学校违规组织补课，每个学生收八百元补课费")
    assert case.data["suggestion"]["topic"] == "教育文体"
    assert case.data["suggestion"]["decision"] == "no_unit" and case.data["suggestion"]["unit"] is None
    assert case.state == "accepted"


def test_without_a_model_intake_is_unchanged(world, routes):
    routes(threshold=0.0, auto=True)
    case = demand(world, "河道被污染", SMOKE)
    assert "suggestion" not in case.data and "topic" not in case.data
    assert case.state == "accepted" and case.transitions.count() == 1


def test_other_mechanisms_get_no_suggestion(world, models, routes):
    routes(threshold=0.0, auto=True)
    data = CaseInput(mechanism="hazard", title="楼道堆放杂物", division=world.grid.code, category="fire")
    case, _ = do_create_case(world.grid_worker, data)
    assert "suggestion" not in Case.objects.get(pk=case.pk).data


def test_the_system_acts_only_where_the_mechanism_lets_it(world, models, routes):
    routes(threshold=1.0, auto=True)
    case = demand(world, "河道被污染", SMOKE)
    with pytest.raises(ActionError) as info:
        check_system_transition(case, TransitionRequest(code="invalidate", opinion="无效"), case.created_at)
    assert info.value.code == "role_not_allowed" and info.value.status == 403
    with pytest.raises(ActionError) as info:
        check_system_transition(
            case, TransitionRequest(code="dispatch", params={"unit": "NOPE"}), case.created_at
        )
    assert info.value.errors[0].code == "unknown_unit"


def test_a_unit_missing_here_or_a_refusal_leaves_the_case_to_a_person(world, models, routes):
    routes(threshold=0.5, auto=True)
    case = demand(world, "河道被污染", SMOKE)
    assert case.state == "dispatched"
    assert dispatch_if_trusted(case) is False  # the engine refuses a second 派单: nothing written
    case.refresh_from_db()
    assert case.state == "dispatched" and case.version == 2 and case.transitions.count() == 2
    world.other_unit.code = "LZQ-SWJ-OLD"  # the unit the table names is gone
    world.other_unit.save()
    later = demand(world, "河道被污染", SMOKE)
    assert later.data["suggestion"]["decision"] == "no_unit" and later.state == "accepted"


def test_case_detail_shows_the_suggestion_to_staff_only(world, models, routes):
    routes(threshold=1.0, auto=True)
    case = demand(world, "河道被污染", SMOKE, user=world.resident)
    staff = ApiClient()
    staff.client.force_login(world.dispatcher)
    body = staff.get(f"/cases/{case.number}").json()
    assert body["suggestion"]["topic"] == "环境保护" and body["suggestion"]["decision"] == "below_threshold"
    assert body["suggestion"]["alternatives"][0]["topic"] in LABELS
    assert "suggestion" not in body["fields"] and body["fields"]["topic"] == "环境保护"
    resident = ApiClient()
    resident.client.force_login(world.resident)
    public = resident.get(f"/cases/{case.number}").json()
    assert public["suggestion"] is None and "suggestion" not in public["fields"]
    # Nor in the list or the answer to the resident's own report.
    listed = resident.get("/cases").json()["items"]
    assert [c["suggestion"] for c in listed] == [None]
    assert staff.get("/cases").json()["items"][0]["suggestion"]["topic"] == "环境保护"
    created = resident.post(
        "/cases",
        {
            "mechanism": "demand",
            "title": "河道被污染",
            "description": SMOKE,
            "division": world.grid.code,
            "category": "complaint",
            "channel": "app",
        },
    )
    assert created.status_code == 201, created.json()
    assert created.json()["suggestion"] is None and "suggestion" not in created.json()["fields"]


def test_training_from_closed_cases(world, models, routes, tmp_path):
    routes(threshold=1.0, auto=True)
    texts = {
        "城乡建设": ["小区楼道墙皮脱落", "路灯坏了没人修", "违章建筑占绿地"],
        "环境保护": ["工厂偷排黑烟", "河道垃圾发臭", "工地噪音扰民"],
    }
    for topic, titles in texts.items():
        for title in titles:
            case = demand(world, title, topic=topic)
            Case.objects.filter(pk=case.pk).update(
                state="closed", state_kind="closed", unit=world.housing_bureau
            )
    Case.objects.filter(pk=demand(world, "咨询彩票开奖").pk).update(state="invalid", state_kind="closed")
    out = run("train", "--from-cases", "--output", str(tmp_path / "own"), "--holdout", "0")
    assert "6 条" in out
    [version] = [p for p in (tmp_path / "own").iterdir() if p.is_dir()]
    manifest = json.loads((version / MANIFEST).read_text())
    assert manifest["training"]["source"] == "cases:demand.topic" and manifest["labels"] == [
        "城乡建设",
        "环境保护",
    ]


# ------------------------------------------------------------------------------------ configuration


def test_dispatch_rules_errors_name_file_line_and_field(tmp_path):
    bad = tmp_path / "dispatch.yaml"
    bad.write_text(
        "mechanism: demand\nfield: topik\ntransition: dispatch\nthreshold: 0.9\nauto_dispatch: false\n"
        "localities:\n  LZQ:\n    threshold: 1.5\n    auto_dispatch: 'yes'\n    colour: red\n",
        encoding="utf-8",
    )
    with pytest.raises(MechanismError) as info:
        routing.load_routing(bad, "dispatch.yaml")
    found = {(p.line, p.field) for p in info.value.problems}
    assert {
        (8, "localities.LZQ.threshold"),
        (9, "localities.LZQ.auto_dispatch"),
        (10, "localities.LZQ.colour"),
    } <= found
    assert all(p.file == "dispatch.yaml" for p in info.value.problems)
    no_system = tmp_path / "invalidate.yaml"
    no_system.write_text(
        "mechanism: demand\nfield: topic\ntransition: merge\nthreshold: 0.9\nauto_dispatch: true\n",
        encoding="utf-8",
    )
    with pytest.raises(MechanismError, match=r"invalidate.yaml:3: transition: .*assign: unit"):
        routing.load_routing(no_system, "invalidate.yaml")
    with pytest.raises(CommandError, match="topik"):
        run("check", str(bad))
    assert "无误" in run("check")  # the shipped file


def test_a_model_dir_that_is_a_file_stops_start_up(tmp_path):
    not_a_dir = tmp_path / "models"
    not_a_dir.write_text("x")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {
        "TAIZHANG_MODEL_DIR": str(not_a_dir)
    }
    proc = subprocess.run(
        [sys.executable, "-m", "taizhang.cli", "check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0 and "TAIZHANG_MODEL_DIR=" in proc.stderr
