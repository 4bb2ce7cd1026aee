"""Who sees and who may change register items: the cases' org-tree rules, applied to the item's place and
unit; `RegisterItem.objects.for_user` is the only way to items."""

from __future__ import annotations

import pytest

from taizhang.registers.actions import ItemInput, do_assess_item, do_change_item
from taizhang.registers.models import RegisterItem
from tests.cases.helpers import error_of

from .helpers import ours, theirs


def numbers(user) -> set[str]:
    return set(RegisterItem.objects.for_user(user).values_list("number", flat=True))


def test_visibility_follows_place_and_unit(world):
    a, b = ours(world), theirs(world)
    expected = {
        "grid_worker": {a.number},
        "dispatcher": {a.number},
        "verifier": {a.number},
        "leader": {a.number, b.number},
        "inspector": {a.number, b.number},  # reads everything
        "outsider": {b.number},  # the grid worker of 白兔村 reads the enterprise placed there
        "enterprise_officer": {b.number},  # the enterprise's own unit
        "handler": set(),  # a bureau that is neither the place nor the unit
        "resident": set(),
    }
    for name, seen in expected.items():
        assert numbers(getattr(world, name)) == seen, name


def test_anonymous_and_unknown_action(world):
    from django.contrib.auth.models import AnonymousUser

    ours(world)
    assert not RegisterItem.objects.for_user(AnonymousUser()).exists()
    with pytest.raises(ValueError):
        RegisterItem.objects.for_user(world.leader, "delete")


def test_create_needs_a_create_role_over_the_place(world):
    # a grid worker of the other street may not enter an item in 和心社区
    assert error_of(lambda: ours(world, user=world.outsider)).code == "role_not_allowed"
    # a bureau's handler holds no create role of the register
    assert error_of(lambda: ours(world, user=world.handler)).code == "role_not_allowed"
    assert error_of(lambda: ours(world, user=world.resident)).code == "role_not_allowed"
    assert ours(world, user=world.dispatcher).number


def test_change_by_the_unit_and_the_place_never_by_readers(world):
    b = theirs(world)
    item = do_change_item(
        world.enterprise_officer,
        b.number,
        ItemInput(address="白兔村化工园区1号", given=frozenset({"address"})),
    )
    assert item.address == "白兔村化工园区1号"
    item = do_change_item(world.outsider, b.number, ItemInput(fields={"employees": 120}, given=frozenset()))
    assert item.data["employees"] == 120
    # the inspector reads everything but never changes a register
    err = error_of(
        lambda: do_change_item(world.inspector, b.number, ItemInput(name="x", given=frozenset({"name"})))
    )
    assert err.code == "role_not_allowed"
    # unseen: 404, exactly as for an item that does not exist
    assert error_of(lambda: do_change_item(world.dispatcher, b.number, ItemInput())).status == 404
    assert error_of(lambda: do_change_item(world.dispatcher, "QY-999999", ItemInput())).status == 404


def test_moving_an_item_needs_the_right_where_it_goes(world):
    a = ours(world)
    err = error_of(
        lambda: do_change_item(
            world.grid_worker,
            a.number,
            ItemInput(division=world.other_grid.code, given=frozenset({"division"})),
        )
    )
    assert err.code == "role_not_allowed"
    moved = do_change_item(
        world.leader, a.number, ItemInput(division=world.other_grid.code, given=frozenset({"division"}))
    )
    assert numbers(world.outsider) == {moved.number}
    assert numbers(world.grid_worker) == set()


def test_assessment_by_assess_roles_only(world):
    a = ours(world)
    assert (
        error_of(lambda: do_assess_item(world.grid_worker, a.number, {"risk_level": "low"}, "复评")).code
        == "role_not_allowed"
    )
    item = do_assess_item(world.dispatcher, a.number, {"risk_level": "low"}, "LS 法 R=6")
    assert item.data["risk_level"] == "low"
