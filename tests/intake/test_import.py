"""`taizhang import`: mapping files, malformed inputs, idempotency, a crash half-way, XLSX, and that an
imported case is exactly what do_create_case makes of the same data.

Input files are generated here (tmp_path); the shared sample data is not used. The Open311 conftest of
this package freezes time at 2026-11-24 10:00 (Beijing); every record below is older.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from taizhang.bulk import PlannerStatistics
from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.hashchain import verify_case
from taizhang.cases.models import Case, CaseSequence, Transition
from taizhang.intake.importer import run as run_module
from taizhang.intake.importer.mapping import MappingError, load_mapping
from taizhang.intake.importer.readers import ReadError
from taizhang.intake.importer.run import run_import

REPO = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
HEADER = [
    "工单编号",
    "来电时间",
    "诉求内容",
    "诉求类型",
    "紧急程度",
    "所属街道",
    "地址",
    "来电人",
    "联系电话",
]
MAPPING = """\
mechanism: demand
reporter: daoru
format:
  encoding: {encoding}
external_id: 工单编号
created:
  column: 来电时间
  format: ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"]
division:
  column: 所属街道
  values: {{五马: WMJD}}
  default: LZQ
category:
  column: 诉求类型
  values: {{咨询: consult, 求助: help, 投诉: complaint, 举报: report, 建议: suggestion}}
  default: complaint
grade:
  column: 紧急程度
  values: {{一般: general, 紧急: emergency}}
title: {{column: 诉求内容, truncate: 40}}
description: 诉求内容
address: 地址
fields:
  caller_name: 来电人
  caller_phone: 联系电话
"""


@pytest.fixture
def importer(world):
    """The account imports act as: a 受理员 (intake) of the district."""
    from taizhang.org.models import Membership, User

    user = User.objects.create_user(username="daoru", password="pw-daoru", display_name="导入专员")
    Membership.objects.create(user=user, role="intake", division=world.district)
    return user


def mapping_file(tmp_path: Path, encoding: str = "utf-8", text: str | None = None) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(text if text is not None else MAPPING.format(encoding=encoding), encoding="utf-8")
    return path


def record(i: int, **over) -> dict[str, str]:
    row = {
        "工单编号": f"GD2026{i:07d}",
        "来电时间": f"2026-{1 + i % 10:02d}-{1 + i % 28:02d} {8 + i % 10:02d}:{i % 60:02d}:00",
        "诉求内容": f"第{i}号诉求：小区门口路灯不亮，夜间出行不便，请尽快维修。",
        "诉求类型": ["咨询", "求助", "投诉", "举报", "建议"][i % 5],
        "紧急程度": "紧急" if i % 7 == 0 else "一般",
        "所属街道": ["五马", "五马街道", "西白兔镇", "WMJD-HX-01", ""][i % 5],
        "地址": f"潞州区英雄中路{i}号",
        "来电人": "王先生",
        "联系电话": f"138{i:08d}",
    }
    row.update(over)
    return row


def write_csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8", header=HEADER) -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def errors_of(summary) -> list[dict[str, str]]:
    with open(summary.errors_path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def run(tmp_path, rows=None, *, source=None, encoding="utf-8", batch_size=1000, **kw):
    source = source or write_csv(tmp_path / "orders.csv", rows)
    return run_import(source, load_mapping(mapping_file(tmp_path, encoding)), batch_size=batch_size, **kw)


def audit_ok() -> str:
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    return out.getvalue()


# --- an imported case is a created case ---------------------------------------------------------------


def test_imported_case_equals_do_create_case(tmp_path, importer, world):
    summary = run(tmp_path, [record(3, 所属街道="和心社区第一网格", 紧急程度="紧急")])
    assert (summary.rows_read, summary.imported, summary.rejected) == (1, 1, 0)
    imported = Case.objects.get(external_id="GD20260000003")

    at = datetime(2026, 4, 4, 11, 3, tzinfo=TZ)
    assert imported.created_at == at
    made, _ = do_create_case(
        importer,
        CaseInput(
            mechanism="demand",
            title="第3号诉求：小区门口路灯不亮，夜间出行不便，请尽快维修。",
            division="WMJD-HX-01",
            category="report",
            grade="emergency",
            channel="import",
            description="第3号诉求：小区门口路灯不亮，夜间出行不便，请尽快维修。",
            address="潞州区英雄中路3号",
            fields={"caller_name": "王先生", "caller_phone": "13800000003"},
            external_id="GD-same-by-api",
        ),
        now=at,
    )
    skip = {"id", "number", "external_id", "last_hash"}
    for f in Case._meta.concrete_fields:
        if f.attname not in skip:
            assert getattr(imported, f.attname) == getattr(made, f.attname), f.attname
    made.refresh_from_db()
    assert imported.version == made.version == 1
    assert imported.channel == "import" and imported.state == "accepted" and imported.due_at is not None
    assert imported.number == "SQ-2026-000001" and made.number == "SQ-2026-000002"
    a, b = imported.transitions.get(), made.transitions.get()
    for f in Transition._meta.concrete_fields:
        if f.attname not in {"id", "case_id", "prev_hash", "hash"}:
            assert getattr(a, f.attname) == getattr(b, f.attname), f.attname
    assert verify_case(imported) is None
    assert "哈希链完好：2 个案件" in audit_ok()


# --- malformed files -------------------------------------------------------------------------------


def test_wrong_encoding_of_the_file_is_a_clear_error_and_imports_nothing(tmp_path, importer):
    source = write_csv(tmp_path / "gbk.csv", [record(i) for i in range(5)], encoding="gbk")
    with pytest.raises(ReadError) as info:
        run(tmp_path, source=source)
    message = str(info.value)
    assert "第 1 行" in message and "utf-8" in message and "format.encoding" in message
    assert Case.objects.count() == 0
    # Declared, the same file imports.
    summary = run(tmp_path, source=source, encoding="gbk")
    assert summary.imported == 5 and Case.objects.filter(title__startswith="第4号诉求").exists()


def test_a_row_in_another_encoding_is_rejected_with_its_row_and_column(tmp_path, importer):
    source = write_csv(tmp_path / "mixed.csv", [record(i) for i in range(4)])
    with open(source, "ab") as f:
        f.write(b"GD-bad,2026-03-01 10:00:00," + "噪音扰民".encode("gbk") + ",投诉,一般,五马,,,\r\n".encode())
    summary = run(tmp_path, source=source)
    assert (summary.imported, summary.rejected) == (4, 1)
    [error] = errors_of(summary)
    assert error["行号"] == "6" and error["列"] == "诉求内容" and "无法按 utf-8 解码" in error["原因"]
    assert not Case.objects.filter(external_id="GD-bad").exists()


def test_missing_columns_name_the_mapping_line_and_import_nothing(tmp_path, importer):
    header = [h for h in HEADER if h not in ("诉求类型", "来电人")]
    source = write_csv(tmp_path / "short.csv", [record(1)], header=header)
    with pytest.raises(MappingError) as info:
        run(tmp_path, source=source)
    problems = {p.field: p for p in info.value.problems}
    assert set(problems) == {"category.column", "fields.caller_name"}
    assert problems["category.column"].line == 14 and problems["fields.caller_name"].line == 24
    assert "没有列「诉求类型」" in problems["category.column"].message
    assert Case.objects.count() == 0


def test_bad_rows_are_rejected_whole_and_reported(tmp_path, importer):
    rows = [
        record(1),
        record(2, 来电时间="2026-02-30 10:00:00"),  # no such day
        record(3, 来电时间="昨天下午"),
        record(4, 诉求类型="表扬"),  # not in the table
        record(5, 所属街道="火星街道"),
        record(6, 来电时间="2027-01-01 10:00:00", 联系电话="1" * 31),  # future, and too long: two problems
        record(7, 工单编号=""),
        record(8, 诉求内容=""),
        record(9),
    ]
    summary = run(tmp_path, rows)
    assert (summary.rows_read, summary.imported, summary.rejected, summary.problems) == (9, 2, 7, 8)
    assert set(Case.objects.values_list("external_id", flat=True)) == {"GD20260000001", "GD20260000009"}
    got = {(e["行号"], e["列"]): e for e in errors_of(summary)}
    assert (
        "无法识别的时间" in got[("3", "来电时间")]["原因"]
        and got[("3", "来电时间")]["值"] == "2026-02-30 10:00:00"
    )
    assert "无法识别的时间" in got[("4", "来电时间")]["原因"]
    assert "类别「表扬」不在映射文件 category.values 中" in got[("5", "诉求类型")]["原因"]
    assert "没有编码或名称为「火星街道」的区划" in got[("6", "所属街道")]["原因"]
    assert got[("7", "来电时间")]["原因"] == "时间晚于当前时间"
    assert "联系电话：不能超过 30 个字" in got[("7", "联系电话")]["原因"]
    assert "外部编号为空" in got[("8", "工单编号")]["原因"]
    assert got[("9", "诉求内容")]["原因"] == "请填写标题"
    assert "哈希链完好：2 个案件" in audit_ok()


def test_duplicates_in_the_file_are_rejected_naming_the_first(tmp_path, importer):
    rows = [record(1), record(2), record(1, 诉求内容="重复的另一条"), record(3), record(2), record(4)]
    # Batches of 2: one duplicate in the same batch as its first row, one in a later batch.
    summary = run(tmp_path, rows, batch_size=2)
    assert (summary.imported, summary.skipped, summary.rejected) == (4, 0, 2)
    got = {e["行号"]: e for e in errors_of(summary)}
    assert set(got) == {"4", "6"}
    assert "已导入为 SQ-2026-000001" in got["4"]["原因"] or "与第 2 行重复" in got["4"]["原因"]
    assert "文件内重复" in got["6"]["原因"]
    assert Case.objects.filter(external_id="GD20260000001").get().title.startswith("第1号诉求")
    again = run(tmp_path, rows, batch_size=3)  # a re-run: every id is in, duplicates are just skipped
    assert (again.imported, again.skipped, again.rejected) == (0, 6, 0)


def test_a_duplicate_in_the_same_batch_names_the_first_row(tmp_path, importer):
    summary = run(tmp_path, [record(1), record(2), record(1, 诉求内容="另一条")])
    assert (summary.imported, summary.rejected) == (2, 1)
    assert [(e["行号"], e["原因"]) for e in errors_of(summary)] == [
        ("4", "外部编号与第 2 行重复（文件内重复）")
    ]


def test_one_bad_row_in_ten_thousand(tmp_path, importer):
    rows = [record(i) for i in range(1, 10_001)]
    rows[4_321] = record(4_322, 来电时间="2026-13-01 25:61:00")
    start = time.perf_counter()
    summary = run(tmp_path, rows)
    seconds = time.perf_counter() - start
    assert (summary.rows_read, summary.imported, summary.skipped, summary.rejected) == (10_000, 9_999, 0, 1)
    assert [(e["行号"], e["列"], e["值"]) for e in errors_of(summary)] == [
        ("4323", "来电时间", "2026-13-01 25:61:00")
    ]
    assert Case.objects.count() == 9_999 and Transition.objects.count() == 9_999
    assert not Case.objects.filter(external_id="GD20260004322").exists()
    assert CaseSequence.objects.get(mechanism="demand", year=2026).last == 9_999
    assert sorted(Case.objects.values_list("number", flat=True))[-1] == "SQ-2026-009999"
    assert "哈希链完好：9999 个案件" in audit_ok()
    assert seconds < 30, seconds


# --- idempotency and crashes -------------------------------------------------------------------------


def test_importing_the_same_file_twice_creates_nothing_new(tmp_path, importer):
    rows = [record(i) for i in range(1, 51)]
    first = run(tmp_path, rows, batch_size=20)
    again = run(tmp_path, rows, batch_size=20)
    assert (first.imported, first.skipped) == (50, 0)
    assert (again.rows_read, again.imported, again.skipped, again.rejected) == (50, 0, 50, 0)
    assert Case.objects.count() == 50 and Transition.objects.count() == 50


def test_the_planner_statistics_follow_the_load(tmp_path, importer, monkeypatch):
    calls = []

    class Small(PlannerStatistics):  # the default floor (20,000 rows) at the scale of a test
        def __init__(self, *models):
            super().__init__(*models, floor=20)

        def refresh(self):
            calls.append(Case.objects.count())
            super().refresh()

    monkeypatch.setattr(run_module, "PlannerStatistics", Small)
    summary = run(tmp_path, [record(i) for i in range(1, 51)], batch_size=10)
    assert summary.imported == 50
    if connection.vendor == "postgresql":
        # at the start, as the table doubles (20, then 40 rows), and at the end
        assert calls == [0, 20, 40, 50]
        with connection.cursor() as cur:
            cur.execute("SELECT reltuples FROM pg_class WHERE oid = 'cases_case'::regclass")
            assert cur.fetchone()[0] == 50  # ANALYZE ran: the planner knows the table's size
    else:
        assert calls == [0, 50]  # SQLite plans without statistics: refresh does nothing there
    run(tmp_path, [record(i) for i in range(1, 51)], batch_size=10)
    assert calls[-1:] == [50]  # a re-run that imports nothing refreshes only at its start


class Crash(Exception):
    pass


def test_a_crash_half_way_then_a_rerun_gives_exactly_the_expected_cases(tmp_path, importer, monkeypatch):
    rows = [record(i) for i in range(1, 1001)]
    rows[555] = record(556, 诉求类型="未知类型")  # one row that is never imported

    def crash_after_four(batch, summary):
        if batch == 4:
            raise Crash

    monkeypatch.setattr(run_module, "batch_committed", crash_after_four)
    with pytest.raises(Crash):
        run(tmp_path, rows, batch_size=100)
    assert Case.objects.count() == 400  # four whole batches, nothing of the fifth
    monkeypatch.undo()

    summary = run(tmp_path, rows, batch_size=100)
    assert (summary.rows_read, summary.imported, summary.skipped, summary.rejected) == (1000, 599, 400, 1)
    expected = {r["工单编号"] for r in rows} - {"GD20260000556"}
    assert set(Case.objects.values_list("external_id", flat=True)) == expected
    assert Case.objects.count() == 999 and Transition.objects.count() == 999
    numbers = sorted(Case.objects.values_list("number", flat=True))
    assert numbers == [f"SQ-2026-{n:06d}" for n in range(1, 1000)]  # no gap, no double
    assert "哈希链完好：999 个案件" in audit_ok()


def test_a_batch_that_fails_is_rolled_back_whole(tmp_path, importer, monkeypatch):
    """A failure inside the batch's transaction (after the numbers were taken) leaves no trace."""
    calls = {"n": 0}
    real = run_module.BatchWriter.record

    def failing(fresh):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Crash
        return real(fresh)

    monkeypatch.setattr(run_module.BatchWriter, "record", staticmethod(failing))
    rows = [record(i) for i in range(1, 31)]
    with pytest.raises(Crash):
        run(tmp_path, rows, batch_size=10)
    assert Case.objects.count() == 10 and CaseSequence.objects.get().last == 10
    monkeypatch.undo()
    summary = run(tmp_path, rows, batch_size=10)
    assert (summary.imported, summary.skipped) == (20, 10)
    assert CaseSequence.objects.get().last == 30
    assert "哈希链完好：30 个案件" in audit_ok()


# --- XLSX, the command, the mapping ------------------------------------------------------------------


def test_xlsx_input(tmp_path, importer):
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.append(HEADER)
    for i in range(1, 6):
        r = record(i)
        ws.append([r[h] for h in HEADER])
    # Cells as a spreadsheet types them: a real date-time, numbers for the id and the phone.
    ws.append(
        [
            20269999,
            datetime(2026, 5, 6, 7, 8, 9),
            "井盖缺失",
            "求助",
            "紧急",
            "西白兔镇",
            "",
            "李女士",
            13912345678,
        ]
    )
    ws.append(["GD-x", "不是时间", "内容", "投诉", "一般", "五马", "", "", ""])
    path = tmp_path / "orders.xlsx"
    book.save(path)
    summary = run(tmp_path, source=path)
    assert (summary.rows_read, summary.imported, summary.rejected) == (7, 6, 1)
    typed = Case.objects.get(external_id="20269999")
    assert typed.created_at == datetime(2026, 5, 6, 7, 8, 9, tzinfo=TZ)
    assert typed.data == {"caller_name": "李女士", "caller_phone": "13912345678"}
    assert typed.grade == "emergency" and typed.division.code == "XBTZ"
    assert [(e["行号"], e["列"]) for e in errors_of(summary)] == [("8", "来电时间")]


def test_command_prints_a_summary_and_writes_the_error_file(tmp_path, importer):
    source = write_csv(tmp_path / "orders.csv", [record(1), record(2, 诉求类型="x")])
    out, err = io.StringIO(), io.StringIO()
    errors = tmp_path / "rejected.csv"
    call_command(
        "import",
        str(source),
        "--mapping",
        str(mapping_file(tmp_path)),
        "--errors",
        str(errors),
        stdout=out,
        stderr=err,
    )
    text = out.getvalue()
    assert "读取 2 行：导入 1，跳过（已导入过）0，拒绝 1" in text and "行/秒" in text and str(errors) in text
    assert errors.read_text(encoding="utf-8-sig").splitlines()[0] == "行号,列,值,原因"
    with pytest.raises(CommandError, match="未导入任何记录"):
        call_command("import", str(source), "--mapping", str(tmp_path / "nope.yaml"), "--quiet")


def test_mapping_problems_name_file_line_and_field(tmp_path, world):
    text = """\
mechanism: demand
reporter: daoru
format: {encoding: klingon}
external_id: 工单编号
created: {column: 来电时间, timezone: Mars/Olympus}
division: {column: 街道}
category:
  column: 类型
  values: {投诉: complain}
grade: {column: 级别, value: general}
title: {column: 内容, truncate: 0}
fields:
  caller: 来电人
colour: red
"""
    with pytest.raises(MappingError) as info:
        load_mapping(mapping_file(tmp_path, text=text))
    got = {(p.line, p.field) for p in info.value.problems}
    assert got == {
        (3, "format.encoding"),
        (5, "created.timezone"),
        (9, "category.values.投诉"),
        (10, "grade"),
        (11, "title.truncate"),
        (13, "fields.caller"),
        (14, "colour"),
    }
    assert all(p.file == "mapping.yaml" for p in info.value.problems)
    assert "mapping.yaml:9: category.values.投诉: 机制 demand 没有类别 complain" in str(info.value)


def test_example_mappings_are_valid():
    for name in ("hotline-generic.yaml", "nyc311.yaml"):
        mapping = load_mapping(REPO / "mechanisms" / "imports" / name)
        assert mapping.mech.code == "demand"


def test_nyc311_mapping_on_rows_shaped_like_the_open_data_export(tmp_path, world):
    from taizhang.org.models import Division, Membership, User

    nyc = Division.objects.create(code="NYC", name="New York City", level="city")
    for code, name in [
        ("MN", "Manhattan"),
        ("BK", "Brooklyn"),
        ("QN", "Queens"),
        ("BX", "Bronx"),
        ("SI", "Staten Island"),
    ]:
        Division.objects.create(code=f"NYC-{code}", name=name, level="district", parent=nyc)
    user = User.objects.create_user(username="nyc_import", password="x")
    Membership.objects.create(user=user, role="intake", division=nyc)
    header = [
        "unique_key",
        "created_date",
        "agency_name",
        "complaint_type",
        "descriptor",
        "location_type",
        "incident_zip",
        "incident_address",
        "city",
        "borough",
        "latitude",
        "longitude",
    ]
    rows = [
        [
            "61276295",
            "2024-05-27T02:08:51.000",
            "Department of Transportation",
            "Street Condition",
            "Pothole",
            "",
            "10033",
            "",
            "MANHATTAN",
            "MANHATTAN",
            "40.84735682050765",
            "-73.93517137747149",
        ],
        [
            "61279486",
            "2024-05-27T01:27:34.000",
            "New York City Police Department",
            "Illegal Parking",
            "Blocked Hydrant",
            "Street/Sidewalk",
            "11373",
            "41-10 JUNCTION BLVD",
            "ELMHURST",
            "QUEENS",
            "",
            "",
        ],
    ]
    source = tmp_path / "nyc.csv"
    with open(source, "w", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    summary = run_import(source, load_mapping(REPO / "mechanisms" / "imports" / "nyc311.yaml"))
    assert (summary.imported, summary.rejected) == (2, 0), errors_of(summary)
    pothole = Case.objects.get(external_id="61276295")
    assert pothole.title == "Street Condition: Pothole" and pothole.division.code == "NYC-MN"
    assert pothole.created_at == datetime(2024, 5, 27, 2, 8, 51, tzinfo=ZoneInfo("America/New_York"))
    assert str(pothole.lat) == "40.847357" and pothole.region == "NYC-MN" and pothole.category == "complaint"
    assert Case.objects.get(external_id="61279486").category == "report"


def test_imported_demands_are_indexed_and_grouped_into_hot_spots(tmp_path, importer):
    from taizhang.insight.models import CaseTokens, HotSpot, HotSpotMember

    rows = [
        record(i, 所属街道="五马街道", 地址="潞州区英雄中路5号", 来电时间=f"2026-03-0{1 + i} 09:00:00")
        for i in range(4)
    ]
    source = write_csv(tmp_path / "orders.csv", rows)
    out = io.StringIO()
    call_command("import", str(source), "--mapping", str(mapping_file(tmp_path)), "--quiet", stdout=out)
    imported = Case.objects.filter(external_id__startswith="GD2026")
    assert CaseTokens.objects.filter(case__in=imported).count() == 4
    [spot] = HotSpot.objects.all()
    assert set(HotSpotMember.objects.filter(hotspot=spot).values_list("case_id", flat=True)) == set(
        imported.values_list("pk", flat=True)
    )
    assert "已索引 4 个案件，重新归并热点 1 个" in out.getvalue()


def test_import_without_insight_leaves_indexing_for_later(tmp_path, importer):
    from taizhang.insight.models import CaseTokens

    source = write_csv(tmp_path / "orders.csv", [record(1), record(2)])
    out = io.StringIO()
    call_command(
        "import", str(source), "--mapping", str(mapping_file(tmp_path)), "--quiet", "--no-insight", stdout=out
    )
    assert not CaseTokens.objects.exists() and "已索引" not in out.getvalue()
    call_command("similar_index", stdout=out)
    assert CaseTokens.objects.count() == 2


def test_an_import_regroups_only_its_own_districts_and_mechanism(tmp_path, importer, monkeypatch):
    calls = []
    monkeypatch.setattr(
        "taizhang.intake.management.commands.import.rebuild",
        lambda regions, mechanisms: calls.append((set(regions), list(mechanisms))) or {},
    )
    source = write_csv(tmp_path / "orders.csv", [record(1), record(2)])
    call_command(
        "import", str(source), "--mapping", str(mapping_file(tmp_path)), "--quiet", stdout=io.StringIO()
    )
    regions = set(Case.objects.values_list("region", flat=True))
    assert calls == [(regions, ["demand"])] and len(regions) == 1


def test_a_failure_after_the_import_says_the_records_are_in(tmp_path, importer, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("taizhang.intake.management.commands.import.rebuild", broken)
    source = write_csv(tmp_path / "orders.csv", [record(1), record(2)])
    with pytest.raises(CommandError, match="记录已导入，但建相似案件索引或归并热点失败：disk full") as exc:
        call_command(
            "import", str(source), "--mapping", str(mapping_file(tmp_path)), "--quiet", stdout=io.StringIO()
        )
    assert "taizhang hotspots rebuild" in str(exc.value) and Case.objects.count() == 2
