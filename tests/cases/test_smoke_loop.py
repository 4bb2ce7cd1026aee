"""The hazard loop end to end through the actions layer."""

from taizhang.cases.hashchain import verify_case
from taizhang.cases.models import Case

from .helpers import act, report, to_rectifying


def test_full_loop(world, photo):
    case = report(world)
    assert case.number.startswith("YH-")
    assert case.state == "reported" and case.due_at is not None
    to_rectifying(world, case)
    act(world.handler, case, "rectified", attachments=[photo(world.handler)])
    act(world.verifier, case, "pass")
    case = Case.objects.get(pk=case.pk)
    assert case.state == "closed" and case.closed_at and case.due_at is None
    assert [t.code for t in case.transitions.order_by("seq")] == [
        "create",
        "register",
        "assign",
        "sign",
        "rectified",
        "pass",
    ]
    assert verify_case(case) is None
