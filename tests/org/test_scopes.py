"""Who sees which cases: the permission-aware queryset and the roles people act in."""

import pytest
from django.core.exceptions import ValidationError

from taizhang.cases.models import Case
from taizhang.org.models import Membership
from taizhang.org.scopes import roles_over
from tests.cases.helpers import act, report


@pytest.fixture
def cases(world):
    grid_case = report(world, title="网格内")
    act(world.dispatcher, grid_case, "register")
    act(world.dispatcher, grid_case, "assign", params={"unit": world.safety_bureau.code})
    other = report(world, user=world.outsider, title="白兔村", division=world.other_grid.code)
    enterprise = report(
        world, user=world.enterprise_officer, title="企业自查", division=world.other_grid.code
    )
    resident = report(world, user=world.resident, title="居民举报")
    return {"grid": grid_case, "other": other, "enterprise": enterprise, "resident": resident}


EXPECTED = {
    "grid_worker": {"grid", "resident"},  # their grid (the resident reported in it too)
    "dispatcher": {"grid", "resident"},  # the street's subtree
    "handler": {"grid"},  # assigned to their unit
    "verifier": {"grid", "resident"},  # the street's verifier: the street's subtree
    "leader": {"grid", "other", "enterprise", "resident"},  # the district
    "inspector": {"grid", "other", "enterprise", "resident"},  # reads everything
    "resident": {"resident"},  # only what they reported
    "outsider": {"other", "enterprise"},  # another grid
    "enterprise_officer": {"enterprise"},  # what they reported (the case has no unit yet)
}


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_for_user_sees_exactly_its_scope(world, cases, persona):
    names = {v.pk: k for k, v in cases.items()}
    seen = {names[pk] for pk in Case.objects.for_user(getattr(world, persona)).values_list("pk", flat=True)}
    assert seen == EXPECTED[persona]


def test_unit_sees_cases_of_units_below(world):
    case = report(world, user=world.enterprise_officer, division=world.other_grid.code)
    Case.objects.filter(pk=case.pk).update(unit=world.workshop)
    officer = type(world.enterprise_officer).objects.get(pk=world.enterprise_officer.pk)
    assert Case.objects.for_user(officer).filter(pk=case.pk).exists()
    assert "enterprise_officer" in roles_over(officer, world.other_grid, world.workshop, None)


def test_anonymous_sees_nothing(world, cases):
    from django.contrib.auth.models import AnonymousUser

    assert not Case.objects.for_user(AnonymousUser()).exists()


def test_unknown_action_is_a_programming_error(world):
    with pytest.raises(ValueError):
        Case.objects.for_user(world.leader, "delete")


@pytest.mark.parametrize(
    ("role", "where", "message"),
    [
        ("handler", "division", "须设在单位上"),
        ("grid_worker", "unit", "须设在区划上"),
        ("dispatcher", None, "须设在一个区划或单位上"),
    ],
)
def test_membership_must_sit_on_the_right_node(world, role, where, message):
    kwargs = (
        {"division": world.grid} if where == "division" else {"unit": world.safety_bureau} if where else {}
    )
    with pytest.raises(ValidationError, match=message):
        Membership.objects.create(user=world.resident, role=role, **kwargs)


def test_division_tree_paths(world):
    assert world.grid.path == "/CZS/LZQ/WMJD/WMJD-HX/WMJD-HX-01/"
    assert world.street.contains(world.grid) and not world.grid.contains(world.street)
    assert world.grid.district() == world.district
    assert [d.code for d in world.grid.ancestors()] == ["WMJD-HX", "WMJD", "LZQ", "CZS"]


def test_a_supporter_sees_no_more_than_before(world, cases):
    from taizhang.insight.actions import do_metoo

    neighbour = type(world.resident).objects.create_user(username="linju", password="x", display_name="邻居")
    from taizhang.org.models import Membership

    Membership.objects.create(user=neighbour, role="resident")
    assert not Case.objects.for_user(neighbour).exists()
    do_metoo(neighbour, cases["grid"].number)  # 我也遇到 gives the public ledger's view, nothing here
    assert not Case.objects.for_user(neighbour).exists()


def test_a_mechanisms_own_self_only_role_is_treated_by_its_flag(world, monkeypatch):
    """Roles are data: a role acting for the person only (a mechanism's 村民代表, say) is no staff post,
    sees only what it reported and may support cases (我也遇到), like the built-in 居民."""
    from taizhang.insight.actions import is_supporter_role
    from taizhang.mechanisms.registry import get_registry
    from taizhang.mechanisms.schema import RoleDef
    from taizhang.org.models import User
    from taizhang.org.scopes import staff_roles

    monkeypatch.setitem(
        get_registry().roles, "villager", RoleDef(code="villager", name="村民代表", acts_for_self_only=True)
    )
    user = User.objects.create_user(username="cunmin", password="pw")
    Membership.objects.create(user=user, role="villager")
    assert staff_roles(user) == set() and is_supporter_role(user)
    assert staff_roles(world.dispatcher) == {"dispatcher"} and not is_supporter_role(world.dispatcher)
    mine = report(world, user=world.resident, title="居民举报")
    assert not Case.objects.for_user(user).filter(pk=mine.pk).exists()


def test_a_bad_or_clashing_code_is_a_form_error_in_the_admin(world, admin_client):
    """The code rules live in clean(): the admin shows them on the form, never as a server error."""
    from taizhang.org.models import Division

    for code, message in (("wmjd", "已被使用"), ("A/B", "只能由字母")):
        data = {"code": code, "name": "测试街道", "level": "street", "parent": world.district.pk}
        response = admin_client.post("/admin/org/division/add/", data)
        assert response.status_code == 200 and message in response.content.decode(), code
    assert not Division.objects.filter(name="测试街道").exists()
    response = admin_client.post(
        f"/admin/org/division/{world.street.pk}/change/",
        {"code": "WMJD", "name": "五马街道", "level": "street", "parent": world.grid.pk},
    )
    assert response.status_code == 200 and "上级不能是自身或自己的下级" in response.content.decode()
