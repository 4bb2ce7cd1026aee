"""Where 督办 goes: the body some levels up the org tree from a case's division, never above the level the
mechanism names (`escalate_up_to`: a 镇's hazard stops at the 区, never the 市)."""

from __future__ import annotations

from taizhang.org.models import Division

from .models import Case

# Division levels from the top of the tree down.
RANK = {"city": 0, "district": 1, "street": 2, "community": 3, "grid": 4}


def escalation_target(case: Case, levels: int, up_to: str | None = None) -> tuple[Division, int]:
    """The division `levels` steps above the case's division and how many steps that really is: fewer when
    the tree is shallower or the cap (`up_to`, a division level) is reached first; (its own division, 0)
    when no step is possible."""
    ancestors = case.division.ancestors()
    if up_to is not None:
        cap = RANK[up_to]
        allowed = []
        for division in ancestors:  # from the parent upwards: stop above the cap
            if RANK.get(division.level, len(RANK)) < cap:
                break
            allowed.append(division)
        ancestors = allowed
    if not ancestors:
        return case.division, 0
    reached = min(levels, len(ancestors))
    return ancestors[reached - 1], reached
