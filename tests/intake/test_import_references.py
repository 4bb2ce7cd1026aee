"""The importer never fills a `reference` field (a register item): it writes cases in bulk, without the
check that the reporter may see the item or the row that lists the case on the item, so a mapping to a
reference field is refused when it is loaded, naming the file, line and field."""

from __future__ import annotations

import pytest

from taizhang.intake.importer.mapping import MappingError, load_mapping
from tests.cases.packs import edited

MAPPING = """\
mechanism: demand
reporter: daoru
external_id: 工单编号
created: {column: 来电时间}
division: {column: 街道}
category: {value: consult}
title: 内容
fields:
  caller_name: 来电人
  enterprise_item: 企业编号
"""
REFERENCE = "  - {name: enterprise_item, label: 涉及企业, type: reference, register: enterprise}\n"


@pytest.fixture
def demand_with_reference(tmp_path):
    """The shipped demand mechanism with a reference field to the 企业台账."""
    with edited(tmp_path, "demand.yaml", "fields:\n", "fields:\n" + REFERENCE) as directory:
        yield directory


def mapping(tmp_path, text: str):
    path = tmp_path / "hotline.yaml"
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)


def test_a_mapping_to_a_reference_field_is_refused_at_load_time(tmp_path, demand_with_reference):
    with pytest.raises(MappingError) as info:
        mapping(tmp_path, MAPPING)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == ("hotline.yaml", 10, "fields.enterprise_item")
    assert "引用台账 enterprise 的条目：导入不能填写台账引用" in problem.message


def test_the_same_mapping_without_it_loads(tmp_path, demand_with_reference):
    loaded = mapping(tmp_path, MAPPING.replace("  enterprise_item: 企业编号\n", ""))
    assert list(loaded.fields) == ["caller_name"]
