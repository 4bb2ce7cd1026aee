"""Helpers for register tests: items of the shipped 企业台账 on the shared world (tests/conftest.py)."""

from __future__ import annotations

from taizhang.registers.actions import ItemInput, do_create_item


def ours(world, **kw):
    """An enterprise in 和心社区第一网格 (五马街道), entered by its grid worker: the street, the district
    and the inspector see it; the other street, the resident and the enterprise's officer do not."""
    user = kw.pop("user", None) or world.grid_worker
    data = dict(
        name="恒顺五金加工厂",
        category="manufacturing",
        division=world.grid.code,
        address="和心社区工业路18号",
        lat="36.195100",
        lon="113.117200",
        fields={"credit_code": "91140400MA0K1234X1", "legal_person": "王建明", "phone": "13912345678"},
    )
    data.update(kw)
    return do_create_item(user, "enterprise", ItemInput(**data))


def theirs(world):
    """晋瑞精细化工 in 白兔村 (西白兔镇), a unit of the org tree, entered by the district's leader with its
    first risk assessment."""
    return do_create_item(
        world.leader,
        "enterprise",
        ItemInput(
            name="晋瑞精细化工有限公司",
            category="hazchem",
            division=world.other_grid.code,
            unit=world.enterprise.code,
            lat="36.151200",
            lon="113.052300",
            fields={
                "credit_code": "91140400MA0K5678Y2",
                "major_hazard_source": True,
                "risk_level": "larger",
                "method": "lec",
                "assessed_on": "2026-01-15",
            },
            opinion="首次评估：LEC 法 D=180",
        ),
    )
