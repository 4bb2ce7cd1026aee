"""Benchmark: `taizhang import` of N generated 12345 records, next to a plain bulk insert of the same rows.

    python bench/import_rows.py [--rows N] [--db sqlite|postgres|both] [--batch-size B] [--postgres-url URL]

Default N = 200,000 (a few minutes per database); the issue's figure is ``--rows 1000000``.

For each database a throw-away database is created (see ``common.py``), migrated and given a small
org plus a 受理员 (intake role over the district). Then, in one child process:

1. **Generate** a CSV of N records shaped like a Chinese 12345 export (工单编号, 来电时间, 诉求内容,
   诉求类型, 紧急程度, 所属街道, 地址, 来电人, 联系电话), UTF-8, times spread over 2025, divisions
   given by name or code, every 50,000th row with a date that does not exist (rejected). Not timed.
2. **Import (timed)** with ``run_import`` and the mapping below, batch size 1000: every row is
   converted and validated, its first deadline computed by the clock service, and written as a case
   plus its hash-chained ``create`` history row. Reported as input rows/s. The resident set size is
   sampled after every batch: that it stays flat is the "constant memory" claim (peak RSS too).
3. **Re-run (timed)**: the same file again — everything is skipped (idempotency), rows/s.
4. **Baselines** on the same database: the case and history rows the import wrote are inserted again
   into constraint-free scratch copies of ``cases_case`` and ``cases_transition`` — one
   ``executemany`` per 10,000 rows in one transaction (SQLite), or ``COPY`` in one transaction
   (PostgreSQL; executemany too for comparison). Rows are read back in chunks outside the timing.
   The baseline rate counts input rows (each is one case row + one history row), like the import's.
5. ``taizhang audit verify`` over everything (its time is printed; it must pass).
"""

from __future__ import annotations

import argparse
import csv
import io
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    DEFAULT_POSTGRES_ADMIN_URL,
    ENGINES,
    dispatch,
    fmt_rate,
    per_second,
    print_table,
    run_child,
    throwaway_database,
    write_result,
)

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
reporter: shouli_bench
external_id: 工单编号
created: {column: 来电时间, format: "%Y-%m-%d %H:%M:%S", timezone: Asia/Shanghai}
division: {column: 所属街道, values: {五马: WMJD}, default: LZQ}
category:
  column: 诉求类型
  values: {咨询: consult, 求助: help, 投诉: complaint, 举报: report, 建议: suggestion}
grade: {column: 紧急程度, values: {一般: general, 紧急: emergency, 水电气热: utilities}}
title: {column: 诉求内容, truncate: 40}
description: 诉求内容
address: 地址
fields: {caller_name: 来电人, caller_phone: 联系电话}
"""
BAD_EVERY = 50_000  # one row in this many has an impossible date
CHUNK = 10_000


def rss_mb() -> float:
    """The current resident set size in MB (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path: Path, n: int) -> int:
    """Write n records; returns how many of them are bad."""
    kinds = ["咨询", "求助", "投诉", "投诉", "举报", "建议"]
    grades = ["一般"] * 8 + ["紧急", "水电气热"]
    places = ["五马", "五马街道", "WMJD-HX", "WMJD-HX-01", "和心社区第一网格", ""]
    topics = ["路灯不亮", "噪音扰民", "垃圾清运不及时", "小区停水", "占道经营", "井盖缺失", "物业服务"]
    bad = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(1, n + 1):
            month, day = 1 + i % 12, 1 + i % 28
            when = f"2025-{month:02d}-{day:02d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}"
            if i % BAD_EVERY == 0:
                when, bad = f"2025-02-30 {i % 24:02d}:00:00", bad + 1
            topic = topics[i % len(topics)]
            w.writerow(
                [
                    f"GD2025{i:09d}",
                    when,
                    f"市民反映{topic}：潞州区英雄中路{i % 500}号附近{topic}问题已持续数日，影响周边居民生活，请相关部门尽快处理。",
                    kinds[i % len(kinds)],
                    grades[i % len(grades)],
                    places[i % len(places)],
                    f"潞州区英雄中路{i % 500}号",
                    "王先生" if i % 2 else "李女士",
                    f"13{i % 1_000_000_000:09d}",
                ]
            )
    return bad


# --- the child ---------------------------------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    from bench.common import build_org, server_version, setup_django, vendor

    migrate_s = setup_django()
    from django.core.management import call_command
    from django.db import connection, transaction

    from taizhang.cases.models import Case, Transition
    from taizhang.intake.importer import run as run_module
    from taizhang.intake.importer.mapping import load_mapping
    from taizhang.intake.importer.run import run_import
    from taizhang.org.models import Division, Membership, User

    engine = "sqlite" if vendor() == "sqlite" else "postgres"
    n = args.rows

    def say(text: str) -> None:
        print(f"{engine}: {text}", file=sys.stderr, flush=True)

    build_org()
    user = User(username="shouli_bench", display_name="受理员")
    user.set_unusable_password()
    user.save()
    Membership.objects.create(user=user, role="intake", division=Division.objects.get(code="LZQ"))

    with tempfile.TemporaryDirectory(prefix="taizhang-import-bench-") as tmp:
        source, mapping_path = Path(tmp) / "orders.csv", Path(tmp) / "mapping.yaml"
        mapping_path.write_text(MAPPING, encoding="utf-8")
        say(f"generating {n:,} rows")
        gen_s = time.perf_counter()
        bad = generate(source, n)
        gen_s = time.perf_counter() - gen_s
        size_mb = source.stat().st_size / 1e6
        mapping = load_mapping(mapping_path)

        samples: list[tuple[int, float]] = []

        def sample(batch: int, summary: Any) -> None:
            samples.append((summary.rows_read, rss_mb()))
            if batch % 50 == 0:
                say(f"  {summary.rows_read:,} rows, {summary.rate:,.0f} rows/s, RSS {samples[-1][1]:.0f} MB")

        run_module.batch_committed = sample
        rss_before = rss_mb()
        say(f"importing ({size_mb:.0f} MB)")
        cpu0 = time.process_time()
        first = run_import(source, mapping, errors_path=Path(tmp) / "errors.csv", batch_size=args.batch_size)
        cpu_s = time.process_time() - cpu0
        peak = peak_rss_mb()
        run_module.batch_committed = lambda batch, summary: None
        say("re-running the same file (everything skipped)")
        again = run_import(source, mapping, errors_path=Path(tmp) / "errors2.csv", batch_size=args.batch_size)

    if first.imported != n - bad or again.imported != 0 or again.skipped != first.imported:
        raise SystemExit(f"unexpected counts: first {first}, again {again}")

    say("baselines: the same case and history rows into scratch tables")
    baselines = bulk_baselines(Case, Transition, connection, transaction)

    say("taizhang audit verify")
    out = io.StringIO()
    verify_s = time.perf_counter()
    call_command("audit", "verify", stdout=out, stderr=out)
    verify_s = time.perf_counter() - verify_s

    tenth = [rss for rows, rss in samples if rows >= n // 10][:1]
    write_result(
        args.result_file,
        {
            "engine": engine,
            "server": server_version(),
            "rows": n,
            "bad": bad,
            "batch_size": args.batch_size,
            "migrate_s": migrate_s,
            "generate_s": gen_s,
            "file_mb": size_mb,
            "import_s": first.seconds,
            "import_cpu_s": cpu_s,
            "imported": first.imported,
            "rejected": first.rejected,
            "rerun_s": again.seconds,
            "rss_before_mb": rss_before,
            "rss_tenth_mb": tenth[0] if tenth else None,
            "rss_end_mb": samples[-1][1] if samples else None,
            "peak_rss_mb": peak,
            "baselines": baselines,
            "verify_s": verify_s,
            "verify_output": out.getvalue().strip(),
        },
    )


def bulk_baselines(Case: Any, Transition: Any, connection: Any, transaction: Any) -> list[dict[str, Any]]:
    """executemany (and COPY on PostgreSQL) of the imported rows into scratch tables; seconds each."""
    from bench.common import db_rows_of, scratch_table_like

    qn = connection.ops.quote_name
    tables = [(model, *scratch_table_like(model)) for model in (Case, Transition)]
    methods = ["executemany 1 txn"] + (["COPY 1 txn"] if connection.vendor == "postgresql" else [])
    out = []
    for method in methods:
        seconds = 0.0
        for _, table, _ in tables:
            with connection.cursor() as cur:
                cur.execute(f"DELETE FROM {qn(table)}")
        with transaction.atomic():
            for model, table, columns in tables:
                col_sql = ", ".join(qn(c) for c in columns)
                insert = f"INSERT INTO {qn(table)} ({col_sql}) VALUES ({', '.join(['%s'] * len(columns))})"
                last = 0
                while True:
                    chunk_qs = model.objects.filter(pk__gt=last).order_by("pk")[:CHUNK]
                    pks = list(chunk_qs.values_list("pk", flat=True))
                    if not pks:
                        break
                    rows = db_rows_of(model, model.objects.filter(pk__in=pks).order_by("pk"), columns)
                    last = pks[-1]
                    start = time.perf_counter()
                    with connection.cursor() as cur:
                        if method.startswith("COPY"):
                            with cur.cursor.copy(f"COPY {qn(table)} ({col_sql}) FROM STDIN") as cp:
                                for row in rows:
                                    cp.write_row(row)
                        else:
                            cur.executemany(insert, rows)
                    seconds += time.perf_counter() - start
        out.append({"name": method, "rows": Case.objects.count(), "seconds": seconds})
    with connection.cursor() as cur:
        for _, table, _ in tables:
            cur.execute(f"DROP TABLE {qn(table)}")
    return out


# --- the parent --------------------------------------------------------------------------------------


def report(r: dict[str, Any]) -> None:
    rate = per_second(r["rows"], r["import_s"])
    print()
    print(f"== {r['engine']} ({r['server']}) ==")
    print(
        f"import: {r['rows']:,} rows ({r['file_mb']:.0f} MB CSV) in {r['import_s']:.1f} s = {fmt_rate(rate)} rows/s; "
        f"{r['imported']:,} cases, {r['rejected']} rejected; batch {r['batch_size']}; "
        f"CPU {r['import_cpu_s'] / r['import_s'] * 100:.0f}% of wall time"
    )
    print(
        f"re-run of the same file (all skipped): {r['rerun_s']:.1f} s = {fmt_rate(per_second(r['rows'], r['rerun_s']))} rows/s"
    )
    print(
        f"memory: RSS {r['rss_before_mb']:.0f} MB before, {r['rss_tenth_mb'] or 0:.0f} MB at 10% of the rows, "
        f"{r['rss_end_mb'] or 0:.0f} MB at the end; peak {r['peak_rss_mb']:.0f} MB"
    )
    print(f"audit verify in {r['verify_s']:.1f} s: {r['verify_output']}")
    print()
    print_table(
        ["same rows (case + history row)", "rows", "seconds", "rows/s", "import ÷ baseline"],
        [["taizhang import", r["rows"], f"{r['import_s']:.1f}", fmt_rate(rate), "1"]]
        + [
            [
                b["name"],
                b["rows"],
                f"{b['seconds']:.1f}",
                fmt_rate(per_second(b["rows"], b["seconds"])),
                f"{rate / per_second(b['rows'], b['seconds']):.3f}",
            ]
            for b in r["baselines"]
        ],
    )


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def parent(args: argparse.Namespace) -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    engines = ENGINES if args.db == "both" else (args.db,)
    script = Path(__file__).resolve()
    for engine in engines:
        print(f"{engine}: creating a throw-away database", file=sys.stderr, flush=True)
        with throwaway_database(engine, args.postgres_url) as url:
            start = time.perf_counter()
            result = run_child(script, ["--rows", str(args.rows), "--batch-size", str(args.batch_size)], url)
            print(f"{engine}: done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
        report(result)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--rows", type=int, default=200_000, help="records in the generated file (default 200,000)"
    )
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_ADMIN_URL)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows < 1 or args.batch_size < 1:
        parser.error("--rows and --batch-size must be at least 1")
    dispatch(args, child, parent)


if __name__ == "__main__":
    main()
