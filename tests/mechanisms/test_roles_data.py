"""Roles as data: the platform's roles file and a mechanism's own roles, validated with file, line and field."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from taizhang.mechanisms.errors import MechanismError
from taizhang.mechanisms.registry import get_registry
from taizhang.mechanisms.roles import platform_roles, validate_roles_file
from taizhang.mechanisms.yamlfile import parse_lined_yaml
from taizhang.org.models import Membership, User
from taizhang.org.roles import Role
from tests.mechanisms.test_validation import FILE, assert_one_problem, broken, line_with, validate_mechanism

ROLES = "org/roles.yaml"


def roles_problems(text: str) -> list:
    with pytest.raises(MechanismError) as info:
        validate_roles_file(parse_lined_yaml(text, ROLES))
    return info.value.problems


def shipped_text() -> str:
    from taizhang.mechanisms.roles import SHIPPED_ROLES

    return SHIPPED_ROLES.read_text(encoding="utf-8")


def test_the_shipped_roles_file_declares_every_built_in_role_with_its_flags():
    roles = {r.code: r for r in platform_roles()}
    assert set(Role.values) <= set(roles)
    assert roles["inspector"].reads_everything and roles["inspector"].flag_and_urge_only
    assert roles["resident"].acts_for_self_only and roles["resident"].held_on == []
    assert roles["handler"].held_on == ["unit"] and set(roles["verifier"].held_on) == {"division", "unit"}


@pytest.mark.parametrize(
    ("old", "new", "needle", "field", "fragment"),
    [
        (
            "    acts_for_self_only: true\n",
            "    acts_for_self_only: true\n  - {code: grid_worker, name: 网格长, held_on: [division]}\n",
            "网格长",
            "roles[9].code",
            "重复",
        ),
        (
            "    held_on: []\n",
            "    held_on: []\n    color: red\n",
            "color: red",
            "roles[8].color",
            "未知的键",
        ),
        ("    acts_for_self_only: true\n", "", "held_on: []", "roles[8].held_on", "acts_for_self_only"),
        (
            "    flag_and_urge_only: true\n",
            "",
            "reads_everything: true",
            "roles[6].reads_everything",
            "flag_and_urge_only",
        ),
        (
            "    held_on: [unit]\n  # A verifier",
            "    held_on: [unit, unit]\n  # A verifier",
            "held_on: [unit, unit]",
            "roles[3].held_on",
            "重复",
        ),
    ],
)
def test_a_broken_roles_file_names_file_line_and_field(old, new, needle, field, fragment):
    text = shipped_text()
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    problems = roles_problems(text)
    assert len(problems) == 1, "\n".join(map(str, problems))
    (problem,) = problems
    assert (problem.file, problem.line, problem.field) == (ROLES, line_with(text, needle), field), str(
        problem
    )
    assert fragment in problem.message, str(problem)


def test_a_roles_file_without_a_built_in_role_is_refused():
    text = shipped_text().replace("  - code: intake\n    name: 受理员\n    held_on: [division]\n", "")
    (problem,) = roles_problems(text)
    assert "intake" in problem.message and problem.field == "roles"


MECH_ROLE = """\
roles:
  - {code: river_chief, name: 河长, held_on: [division]}
  - {code: expert, name: 专家, held_on: [unit]}
"""


def test_a_mechanism_adds_its_own_roles_and_names_them_relative_to_parties():
    text = broken(("    roles: [verifier]\n", "    roles: [river_chief@place, expert@supervisor]\n"))
    mech = validate_mechanism(parse_lined_yaml(MECH_ROLE + text, FILE))
    assert [r.code for r in mech.roles] == ["river_chief", "expert"]


@pytest.mark.parametrize(
    ("edit", "needle", "field", "fragment"),
    [
        (
            ("    roles: [verifier]\n", "    roles: [verifier@boss]\n"),
            "verifier@boss",
            "transitions[4].roles[0]",
            "未知的案件当事方 'boss'",
        ),
        (
            ("    roles: [verifier]\n", "    roles: [checker@lead]\n"),
            "checker@lead",
            "transitions[4].roles[0]",
            "未知的角色 'checker'",
        ),
        (
            ("    roles: [verifier]\n", "    roles: [handler@place]\n"),
            "handler@place",
            "transitions[4].roles[0]",
            "只设在单位上",
        ),
        (
            ("    roles: [verifier]\n", "    roles: [dispatcher@lead]\n"),
            "dispatcher@lead",
            "transitions[4].roles[0]",
            "只设在区划上",
        ),
        (
            ("    roles: [verifier]\n", "    roles: [reporter@lead]\n"),
            "reporter@lead",
            "transitions[4].roles[0]",
            "不是岗位",
        ),
        (
            ("    roles: [verifier]\n", "    roles: [inspector]\n"),
            "roles: [inspector]",
            "transitions[4].roles[0]",
            "只能标记和催办",
        ),
        (
            ("approval: {roles: [leader]", "approval: {roles: [inspector]"),
            "roles: [inspector]",
            "transitions[2].approval.roles[0]",
            "只能标记和催办",
        ),
        (
            ("    roles: [verifier]\n", "    roles: [verifier]\n    assign_above: true\n"),
            "assign_above",
            "transitions[4].assign_above",
            "assign: unit",
        ),
    ],
)
def test_a_wrong_role_spec_names_file_line_and_field(edit, needle, field, fragment):
    assert_one_problem(broken(edit), needle, field, fragment)


def test_a_mechanism_role_may_not_take_a_platform_roles_code():
    text = "roles:\n  - {code: leader, name: 河长, held_on: [division]}\n" + broken()
    assert_one_problem(text, "code: leader, name: 河长", "roles[0].code", "重复")


def test_memberships_follow_the_roles_data(world):
    user = User.objects.create_user(username="x", password="pw")
    with pytest.raises(ValidationError, match="没有编码为 chief 的角色"):
        Membership.objects.create(user=user, role="chief", division=world.street)
    with pytest.raises(ValidationError, match="不设在区划或单位上"):
        Membership.objects.create(user=user, role="resident", division=world.street)
    with pytest.raises(ValidationError, match="须设在单位上"):
        Membership.objects.create(user=user, role="handler", division=world.street)
    Membership.objects.create(user=user, role="verifier", division=world.street)  # held on both
    Membership.objects.create(user=user, role="verifier", unit=world.safety_bureau)
    assert "verifier" in get_registry().roles
