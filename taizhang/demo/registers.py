"""The demo's 企业台账: an entry for each invented enterprise of places.py in its village, entered by the
district's dispatcher through the same action the pages use, with a first risk assessment; one is
re-assessed later, so its page shows the earlier assessment in the history. Names, codes and phone
numbers are invented; the places are the demo's."""

from __future__ import annotations

import random

from taizhang.clock.now import pinned
from taizhang.org.roles import Role
from taizhang.registers.actions import ItemInput, do_assess_item, do_create_item

from .geo import point_near
from .places import ENTERPRISES, STREETS

# kind in places.py -> the register's category, risk level (LEC) and employees
PROFILE = {
    "hazchem": ("hazchem", "larger", 260, True),
    "coking": ("hazchem", "major", 540, True),
    "mine": ("manufacturing", "larger", 820, False),
    "warehouse": ("retail", "general", 75, False),
    "materials": ("construction", "low", 48, False),
}
OFFICERS = ("郑立新", "苗文涛", "卫长青", "贾志宏", "武晓东")


def build_registers(org, cast, end) -> int:
    """Enter the enterprises (as of 60 days before `end`) and re-assess the first (10 days before)."""
    from datetime import timedelta

    dispatcher = cast.one(Role.DISPATCHER, "LZQ")
    rng = random.Random("registers")
    items = []
    with pinned(end - timedelta(days=60)):
        for i, ent in enumerate(ENTERPRISES):
            category, level, employees, major = PROFILE[ent.kind]
            street = next(s for s in STREETS if ent.community.startswith(s.code + "-"))
            lat, lon = point_near(rng, street, rural=True)
            items.append(
                do_create_item(
                    dispatcher,
                    "enterprise",
                    ItemInput(
                        name=ent.name,
                        category=category,
                        division=ent.community,
                        unit=ent.code,
                        address=f"{org.divisions[ent.community].name}工业园区{i + 3}号",
                        lat=f"{lat:.6f}",
                        lon=f"{lon:.6f}",
                        fields={
                            "credit_code": f"91140402MA0L{i:02d}7Q{i}X",
                            "safety_officer": OFFICERS[i % len(OFFICERS)],
                            "phone": f"1390355{i:04d}",
                            "employees": employees,
                            "major_hazard_source": major,
                            "risk_level": level,
                            "method": "lec",
                            "assessed_on": (end - timedelta(days=60)).date().isoformat(),
                        },
                        opinion="年度风险辨识评估（LEC 法）",
                    ),
                )
            )
    with pinned(end - timedelta(days=10)):
        do_assess_item(
            dispatcher,
            items[0].number,
            {"risk_level": "major", "assessed_on": (end - timedelta(days=10)).date().isoformat()},
            "罐区扩建后复评：LEC 法 D=360，升为重大风险",
        )
    return len(items)
