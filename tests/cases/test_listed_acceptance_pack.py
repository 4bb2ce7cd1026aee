"""A rule pack sets a 挂牌督办 transition's acceptance limit (`transitions: {code: {accept_within}}`) for
its divisions, checked at load time like the mechanism's own figure."""

from __future__ import annotations

import pytest
import time_machine

from taizhang.mechanisms.errors import MechanismError
from taizhang.mechanisms.registry import get_mechanism, load_directory

from .helpers import act, at, fresh, report
from .packs import extra_pack, shipped_copy
from .test_shipped_deadline_rules import PLAN


def wuma_pack(override: str) -> str:
    return (
        "pack: wuma_listing\nname: 五马街道挂牌督办\ndivisions: [WMJD]\n"
        f"mechanisms:\n  hazard:\n    transitions:\n      {override}\n"
    )


def listed_to_verifying(world, photo):
    case = report(world, grade="major")
    act(world.dispatcher, case, "register")
    act(world.leader, case, "list_supervision", opinion="列入区级挂牌督办")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    act(world.handler, case, "sign", fields=PLAN)
    act(world.handler, case, "rectified", attachments=[photo(world.handler)])
    return fresh(case)


def test_the_packs_acceptance_limit_applies_in_its_divisions(world, photo, tmp_path):
    with (
        time_machine.travel(at(2026, 3, 10, 10, 0), tick=False),
        extra_pack(tmp_path, wuma_pack("list_supervision: {accept_within: 5 自然日}")),
    ):
        mech = get_mechanism("hazard")
        t = mech.transitions["list_supervision"]
        assert mech.transition_rule(t, "accept_within", world.grid.path) == "5 自然日"
        assert mech.transition_rule(t, "accept_within", world.other_street.path) == "10 自然日"
        case = listed_to_verifying(world, photo)
        assert (case.due_at, case.limit_text) == (at(2026, 3, 15, 10, 0), "5天")  # not the mechanism's 10


@pytest.mark.parametrize(
    ("override", "field", "fragment"),
    [
        (
            "extend: {accept_within: 5 自然日}",
            "transitions.extend.accept_within",
            "没有 supervise.accept_within",
        ),
        ("list_supervision: {accept_within: 1.5 工作日}", "list_supervision.accept_within", "须为整数"),
        ("list_supervision: {accept_within: 0 自然日}", "list_supervision.accept_within", "时限"),
    ],
)
def test_a_bad_acceptance_override_is_refused_naming_file_and_field(tmp_path, override, field, fragment):
    directory = shipped_copy(tmp_path)
    (directory / "packs" / "wuma.yaml").write_text(wuma_pack(override), encoding="utf-8")
    with pytest.raises(MechanismError) as info:
        load_directory(directory)
    text = str(info.value)
    assert "packs/wuma.yaml" in text and field in text and fragment in text, text
