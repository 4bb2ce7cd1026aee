"""`taizhang mechanisms check [FILE ...]` and `taizhang mechanisms list`, and the check at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

from taizhang.mechanisms.registry import get_registry, load_directory, reset_registry

from .test_validation import MINIMAL, line_with

REAL_DIR = Path(settings.TAIZHANG_MECHANISM_DIR)
BROKEN = MINIMAL.replace("    roles: [verifier]", "    roles: [checker]")
DEMO_PACK = """\
pack: demo_local
name: 演示规则包
divisions: [LZQ]
mechanisms:
  demo:
    time_limits:
      - {state: working, limit: 3 工作日}
"""


def run(*args: str) -> str:
    out = StringIO()
    call_command("mechanisms", *args, stdout=out)
    return out.getvalue()


def fails(*args: str) -> str:
    with pytest.raises(CommandError) as info:
        run(*args)
    return str(info.value)


@pytest.fixture
def fresh_registry():
    """Tests that point the settings at another directory must not leave its registry behind."""
    reset_registry()
    yield
    reset_registry()


def test_check_the_real_directory():
    out = run("check")
    registry = load_directory(REAL_DIR)
    counts = f"{len(registry.mechanisms)} 个机制，{len(registry.packs)} 个规则包"
    assert f"机制定义无误：{counts}（{REAL_DIR}）" in out


def test_check_a_good_file_and_the_real_pack():
    out = run("check", str(REAL_DIR / "hazard.yaml"), str(REAL_DIR / "packs" / "luzhou.yaml"))
    assert f"{REAL_DIR / 'hazard.yaml'}：无误" in out
    assert f"{REAL_DIR / 'packs' / 'luzhou.yaml'}：无误" in out


def test_check_a_broken_file_names_file_line_field_and_message(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    text = fails("check", str(path))
    line = line_with(BROKEN, "checker")
    assert text.startswith("机制定义有误（1 处）：\n")
    assert f"{path}:{line}: transitions[4].roles[0]: 未知的角色 'checker'" in text


def test_check_reports_every_problem_of_every_file(tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(BROKEN, encoding="utf-8")
    second.write_text(MINIMAL.replace("code: demo", "code: Demo"), encoding="utf-8")
    text = fails("check", str(first), str(second))
    assert "（2 处）" in text
    assert f"{first}:{line_with(BROKEN, 'checker')}: transitions[4].roles[0]:" in text
    assert f"{second}:1: code: 格式不符" in text


def test_check_a_yaml_syntax_error(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text(MINIMAL.replace("name: 演示机制", "name: 演示: 机制"), encoding="utf-8")
    assert f"{path}:2: YAML 语法错误：" in fails("check", str(path))


def test_check_a_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    assert f"{path}:1: 无法读取文件" in fails("check", str(path))


def test_check_a_pack_against_the_real_mechanisms(tmp_path):
    path = tmp_path / "local.yaml"
    path.write_text(DEMO_PACK.replace("demo:", "hazard:").replace("working", "rectifying"), encoding="utf-8")
    assert f"{path}：无误" in run("check", str(path))


def test_check_a_broken_pack(tmp_path):
    path = tmp_path / "local.yaml"
    path.write_text(DEMO_PACK, encoding="utf-8")
    text = fails("check", str(path))
    assert f"{path}:{line_with(DEMO_PACK, 'demo:')}: mechanisms.demo: 未知的机制 'demo'（已加载：" in text


def test_check_a_new_mechanism_and_its_pack_together_in_any_order(tmp_path):
    mechanism, pack = tmp_path / "demo.yaml", tmp_path / "local.yaml"
    mechanism.write_text(MINIMAL, encoding="utf-8")
    pack.write_text(DEMO_PACK, encoding="utf-8")
    out = run("check", str(pack), str(mechanism))
    assert f"{mechanism}：无误" in out and f"{pack}：无误" in out


def test_a_file_in_a_packs_folder_is_checked_as_a_pack(tmp_path):
    path = tmp_path / "packs" / "local.yaml"
    path.parent.mkdir()
    path.write_text(DEMO_PACK.replace("pack: demo_local\n", "").replace("demo:", "hazard:"), encoding="utf-8")
    assert f"{path}:1: pack: 缺少必填项" in fails("check", str(path))


def test_check_a_broken_directory(tmp_path, settings, fresh_registry):
    (tmp_path / "demo.yaml").write_text(BROKEN, encoding="utf-8")
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "local.yaml").write_text(DEMO_PACK.replace("3 工作日", "3 weeks"), encoding="utf-8")
    settings.TAIZHANG_MECHANISM_DIR = tmp_path
    text = fails("check")
    assert f"demo.yaml:{line_with(BROKEN, 'checker')}: transitions[4].roles[0]: 未知的角色 'checker'" in text
    # The pack names a mechanism whose file is broken: only the mechanism's problem is reported.
    assert "packs/local.yaml" not in text
    assert "（1 处）" in text


def test_check_a_file_while_another_mechanism_of_the_directory_is_broken(tmp_path, settings, fresh_registry):
    (tmp_path / "other.yaml").write_text(BROKEN.replace("code: demo", "code: other"), encoding="utf-8")
    settings.TAIZHANG_MECHANISM_DIR = tmp_path
    path = tmp_path / "demo.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert f"{path}：无误" in run("check", str(path))


def test_list():
    lines = run("list").splitlines()
    hazard = load_directory(REAL_DIR).get("hazard").definition
    states, transitions = len(hazard.states), len(hazard.transitions)
    assert (
        f"hazard\t安全隐患闭环\tv{hazard.version}\t{states} 个状态\t{transitions} 个流转\thazard.yaml"
        in lines
    )
    assert "规则包 luzhou\t潞州区安全生产与接诉即办规则\t区划：LZQ\t机制：hazard、demand" in lines


def test_list_of_a_broken_directory_is_an_error_not_a_traceback(tmp_path, settings, fresh_registry):
    (tmp_path / "demo.yaml").write_text(BROKEN, encoding="utf-8")
    settings.TAIZHANG_MECHANISM_DIR = tmp_path
    assert "transitions[4].roles[0]" in fails("list")


def test_start_up_refuses_a_broken_directory_with_every_problem(tmp_path, settings, fresh_registry):
    (tmp_path / "demo.yaml").write_text(BROKEN.replace("limit: 5 工作日", "limit: 5 weeks"), encoding="utf-8")
    settings.TAIZHANG_MECHANISM_DIR = tmp_path
    with pytest.raises(ImproperlyConfigured) as info:
        apps.get_app_config("mechanisms").ready()
    text = str(info.value)
    assert f"demo.yaml:{line_with(BROKEN, 'checker')}: transitions[4].roles[0]: 未知的角色 'checker'" in text
    assert "time_limits[0].limit: 时限无效：未知的时限单位“weeks”" in text


def test_start_up_loads_the_directory_once(fresh_registry):
    assert get_registry() is get_registry()
    assert "hazard" in get_registry().mechanisms


def test_the_mechanisms_command_itself_does_not_stop_at_start_up(
    tmp_path, settings, fresh_registry, monkeypatch
):
    (tmp_path / "demo.yaml").write_text(BROKEN, encoding="utf-8")
    settings.TAIZHANG_MECHANISM_DIR = tmp_path
    monkeypatch.setattr(sys, "argv", ["taizhang", "mechanisms", "check"])
    apps.get_app_config("mechanisms").ready()  # no exception: the command reports the problems itself


def test_the_console_command_on_a_broken_directory(tmp_path):
    (tmp_path / "demo.yaml").write_text(BROKEN, encoding="utf-8")
    env = {
        **os.environ,
        "TAIZHANG_MECHANISM_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "taizhang.settings",
    }
    result = subprocess.run(
        [sys.executable, "-m", "taizhang.cli", "mechanisms", "check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 1
    assert (
        f"demo.yaml:{line_with(BROKEN, 'checker')}: transitions[4].roles[0]: 未知的角色 'checker'"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
