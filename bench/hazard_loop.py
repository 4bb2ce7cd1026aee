"""Benchmark: hazard cases through the whole loop via the actions layer, next to plain-INSERT baselines.

    python bench/hazard_loop.py [--db sqlite|postgres|both] [--cases N] [--postgres-url URL]

For each database a throw-away database is created (SQLite: a temporary file; PostgreSQL:
``taizhang_bench_<pid>``, dropped at the end), migrated, and given a small org. Then, in one process:

1. N + 2 photos are uploaded through ``do_upload_attachment`` (timed separately, not part of the loop).
2. Two warm-up cases go through the loop (the first also creates the year's number sequence); every
   query of the second is captured, to count queries per action.
3. N cases are created with ``do_create_case`` and walked register → assign → sign → rectified (with
   a photo) → pass (by a verifier other than the handler) with ``do_transition``: 6 history rows per
   case, create included. This is the timed loop.
4. Baselines on the same database: the 6·N history rows just written are inserted again into a
   constraint-free scratch table of the same columns, row by row with one transaction per row, with
   one executemany in one transaction, and on PostgreSQL with COPY.
5. ``taizhang audit verify`` checks every hash chain of the bench data.

The clock is pinned to a fixed working-day morning so that deadlines are computed the same way in
every run (and never reach a year whose holidays are not yet published). Each action runs with the
person's roles loaded afresh, as in a request.
"""

from __future__ import annotations

import argparse
import io
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    DEFAULT_POSTGRES_ADMIN_URL,
    ENGINES,
    PER_ROW_TXN,
    Stopwatch,
    dispatch,
    fmt_rate,
    insert_baselines,
    per_second,
    print_table,
    run_child,
    throwaway_database,
    write_result,
)

ROWS_PER_CASE = 6  # create, register, assign, sign, rectified, pass
WARM_UP = 2  # cases walked before the timed loop; the second one has its queries counted
ACTIONS = ("create", "register", "assign", "sign", "rectified", "pass")
CPU_NOTE = {
    "sqlite": "Python, Django and SQLite itself, which runs in-process",
    "postgres": "Python and Django; the rest is waiting for the server, its commits and the network",
}
PINNED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday morning


# --- the child: runs inside one database ------------------------------------------------------------


def walk_case(org: Any, photo_id: int, i: int, watch: Stopwatch | None = None) -> int:
    """One hazard case from report to closure through the actions layer; returns the case id."""
    from contextlib import nullcontext

    from taizhang.cases.actions import TransitionRequest, do_transition
    from taizhang.cases.create import CaseInput, do_create_case
    from taizhang.org.scopes import forget_grants

    def step(name: str, user: Any, fn: Any) -> Any:
        forget_grants(user)  # a request loads the person's roles afresh
        with watch(name) if watch else nullcontext():
            return fn()

    case, _ = step(
        "create",
        org.grid_worker,
        lambda: do_create_case(
            org.grid_worker,
            CaseInput(
                mechanism="hazard",
                title=f"楼道堆放杂物堵塞消防通道 {i}",
                division=org.grid.code,
                category="fire",
                grade="general",
                address=f"和心社区{i % 40 + 1}号楼2单元",
                description="三楼楼道堆放纸箱和电动车，堵塞疏散通道。",
                fields={"hazard_place": "三楼楼道"},
            ),
        ),
    )
    requests = [
        ("register", org.dispatcher, TransitionRequest("register", opinion="属实，予以立案")),
        (
            "assign",
            org.dispatcher,
            TransitionRequest("assign", opinion="请于期限内整改", params={"unit": org.safety_bureau.code}),
        ),
        ("sign", org.handler, TransitionRequest("sign")),
        (
            "rectified",
            org.handler,
            TransitionRequest("rectified", opinion="杂物已清理，通道畅通", attachments=[photo_id]),
        ),
        ("pass", org.verifier, TransitionRequest("pass", opinion="现场复核，整改到位")),
    ]
    for name, user, req in requests:
        step(name, user, lambda user=user, req=req: do_transition(user, case.pk, req))
    return case.pk


def upload_photos(user: Any, count: int) -> list[int]:
    from bench.common import make_jpeg
    from taizhang.cases.attachments import do_upload_attachment
    from taizhang.org.scopes import forget_grants

    ids = []
    for i in range(count):
        data = make_jpeg(i)
        forget_grants(user)
        ids.append(do_upload_attachment(user, f"整改后-{i}.jpg", io.BytesIO(data), len(data)).pk)
    return ids


def count_queries(org: Any, photo_id: int, i: int) -> tuple[dict[str, dict[str, int]], dict[str, list[str]]]:
    """Queries per action for one case, by statement kind (BEGIN and COMMIT included), and their SQL."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from taizhang.cases import actions, create

    per_action: dict[str, dict[str, int]] = {}
    sql: dict[str, list[str]] = {}
    original_create, original_transition = create.do_create_case, actions.do_transition

    def capture(name: str, fn: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with CaptureQueriesContext(connection) as ctx:
                result = fn(*args, **kwargs)
            kinds: dict[str, int] = {}
            for q in ctx.captured_queries:
                verb = q["sql"].lstrip().split(None, 1)[0].upper()
                kinds[verb] = kinds.get(verb, 0) + 1
            key = name if name != "transition" else args[2].code
            per_action[key] = {"total": len(ctx.captured_queries), **kinds}
            sql[key] = [q["sql"] for q in ctx.captured_queries]
            return result

        return wrapped

    create.do_create_case = capture("create", original_create)
    actions.do_transition = capture("transition", original_transition)
    try:
        walk_case(org, photo_id, i)
    finally:
        create.do_create_case, actions.do_transition = original_create, original_transition
    return per_action, sql


def child(args: argparse.Namespace) -> None:
    """Measure inside the database DATABASE_URL points to, and write the figures as JSON."""
    from bench.common import build_org, server_version, setup_django, vendor

    def say(msg: str) -> None:
        print(f"  [{engine}] {msg}", file=sys.stderr, flush=True)

    engine = "?"
    migrate_s = setup_django()
    engine = {"sqlite": "sqlite", "postgresql": "postgres"}[vendor()]
    say(f"{server_version()}: migrated in {migrate_s:.1f} s")

    from django.core.management import call_command

    from taizhang.cases.models import Case, Transition
    from taizhang.clock.now import pinned

    n = args.cases
    with pinned(PINNED_AT):
        org = build_org()
        start = time.perf_counter()
        photos = upload_photos(org.handler, n + WARM_UP)
        upload_s = time.perf_counter() - start
        say(f"{n + WARM_UP} photos uploaded in {upload_s:.1f} s; counting queries on a warm-up case")
        walk_case(org, photos[0], 0)  # the first case of the year also creates the number sequence
        queries, sql = count_queries(org, photos[1], 1)

        say(f"timing {n} cases through the loop")
        watch = Stopwatch()
        case_ids = []
        start, cpu_start = time.perf_counter(), time.process_time()
        for i in range(WARM_UP, n + WARM_UP):
            case_ids.append(walk_case(org, photos[i], i, watch))
        loop_s, loop_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start

    closed = Case.objects.filter(pk__in=case_ids, state="closed").count()
    rows = Transition.objects.filter(case_id__in=case_ids).count()
    if closed != n or rows != n * ROWS_PER_CASE:
        raise SystemExit(
            f"loop incomplete: {closed}/{n} cases closed, {rows}/{n * ROWS_PER_CASE} history rows"
        )

    say("baselines: the same rows into a scratch table")
    from bench.common import db_rows_of

    history = db_rows_of(
        Transition,
        Transition.objects.filter(case_id__in=case_ids).order_by("case_id", "seq"),
        [f.column for f in Transition._meta.concrete_fields if not f.primary_key],
    )
    baselines = insert_baselines(Transition, history)

    say("taizhang audit verify")
    out = io.StringIO()
    start = time.perf_counter()
    call_command("audit", "verify", stdout=out, stderr=out)
    verify_s = time.perf_counter() - start

    write_result(
        args.result_file,
        {
            "engine": engine,
            "server": server_version(),
            "cases": n,
            "migrate_s": migrate_s,
            "upload_s": upload_s,
            "uploads": n + WARM_UP,
            "loop_s": loop_s,
            "loop_cpu_s": loop_cpu_s,
            "transitions": n * ROWS_PER_CASE,
            "actions": {name: watch.totals[name] for name in ACTIONS},
            "queries": queries,
            "sql": sql,
            "baselines": [{"name": b.name, "rows": b.rows, "seconds": b.seconds} for b in baselines],
            "verify_s": verify_s,
            "verify_output": out.getvalue().strip(),
            "verified_rows": Transition.objects.count(),
        },
    )


# --- the parent: throw-away databases, children, report ---------------------------------------------


def loop_rate(r: dict[str, Any]) -> float:
    """History rows (transitions, create included) per second in the timed loop."""
    return per_second(r["transitions"], r["loop_s"])


def baseline_rates(r: dict[str, Any]) -> dict[str, float]:
    """Rows per second of each baseline, by name."""
    return {b["name"]: per_second(b["rows"], b["seconds"]) for b in r["baselines"]}


def report(r: dict[str, Any], show_queries: bool = False) -> None:
    """Print one database's figures (and the SQL of one loop with ``show_queries``)."""
    n, loop_s = r["cases"], r["loop_s"]
    rates = baseline_rates(r)
    per_row_txn = rates[PER_ROW_TXN]
    engine_rate = loop_rate(r)
    label = f"{r['engine']:<9}"
    print()
    print(f"== {r['engine']} ({r['server']}) ==")
    print(
        f"{label}hazard loop: {n} cases in {loop_s:.1f} s = {fmt_rate(per_second(n, loop_s))} cases/s, "
        f"{fmt_rate(engine_rate)} transitions/s | baseline "
        + ", ".join(f"{name}: {fmt_rate(rate)} rows/s" for name, rate in rates.items())
    )
    print(
        f"{label}ratio engine transitions/s ÷ {PER_ROW_TXN} rows/s = {engine_rate / per_row_txn:.3f} "
        f"(1 ÷ {per_row_txn / engine_rate:.1f})"
    )
    print(
        f"{label}CPU time of the benchmark process in the loop: {r['loop_cpu_s']:.1f} s = "
        f"{r['loop_cpu_s'] / loop_s * 100:.0f}% of wall time ({CPU_NOTE[r['engine']]})"
    )
    print(
        f"{label}outside the loop: migrate {r['migrate_s']:.1f} s, {r['uploads']} photo uploads in "
        f"{r['upload_s']:.1f} s = {fmt_rate(per_second(r['uploads'], r['upload_s']))} uploads/s, "
        f"audit verify {r['verified_rows']} rows in {r['verify_s']:.2f} s"
    )
    print(f"{label}audit verify: {r['verify_output']}")
    print()
    table: list[list[Any]] = []
    for name in ACTIONS:
        seconds = r["actions"][name]
        q = r["queries"].get(name, {})
        kinds = " ".join(f"{k}={v}" for k, v in sorted(q.items()) if k != "total")
        share = f"{seconds / loop_s * 100:.0f}%"
        table.append([name, f"{seconds / n * 1000:.2f}", share, q.get("total", "?"), kinds])
    total_q = sum(q.get("total", 0) for q in r["queries"].values())
    per_row = f"{total_q / ROWS_PER_CASE:.1f} per history row"
    table.append(["whole case", f"{loop_s / n * 1000:.2f}", "100%", total_q, per_row])
    print_table(["action", "ms/action", "share", "queries", "by statement (one case)"], table)
    if show_queries:
        for name in ACTIONS:
            print(f"\n-- {name}: {len(r['sql'].get(name, []))} queries")
            for q in r["sql"].get(name, []):
                print(f"   {q[:300]}{' …' if len(q) > 300 else ''}")
    print()
    print_table(
        ["baseline (same rows, scratch table)", "rows", "seconds", "rows/s", "engine ÷ baseline"],
        [
            [
                b["name"],
                b["rows"],
                f"{b['seconds']:.3f}",
                fmt_rate(rates[b["name"]]),
                f"{engine_rate / rates[b['name']]:.3f}",
            ]
            for b in r["baselines"]
        ],
    )


def summary(results: list[dict[str, Any]]) -> None:
    """One line per database, side by side."""
    rows = []
    for r in results:
        engine_rate, per_row_txn = loop_rate(r), baseline_rates(r)[PER_ROW_TXN]
        cases_rate = per_second(r["cases"], r["loop_s"])
        ratio = f"{engine_rate / per_row_txn:.3f}"
        rows.append([r["engine"], fmt_rate(cases_rate), fmt_rate(engine_rate), fmt_rate(per_row_txn), ratio])
    print()
    print_table(
        ["summary", "cases/s", "transitions/s", f"{PER_ROW_TXN} rows/s", "engine ÷ per-row txn"], rows
    )


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # so that `finally` drops the throw-away database on SIGTERM too


def parent(args: argparse.Namespace) -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    engines = ENGINES if args.db == "both" else (args.db,)
    script = Path(__file__).resolve()
    results = []
    for engine in engines:
        print(f"{engine}: creating a throw-away database", file=sys.stderr, flush=True)
        with throwaway_database(engine, args.postgres_url) as url:
            start = time.perf_counter()
            results.append(run_child(script, ["--cases", str(args.cases)], url))
            print(f"{engine}: done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
        report(results[-1], args.show_queries)
    if len(results) > 1:
        summary(results)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--cases", type=int, default=500, help="cases through the loop (default 500)")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_ADMIN_URL,
        help=f"admin connection that may CREATE/DROP DATABASE (default {DEFAULT_POSTGRES_ADMIN_URL})",
    )
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of one case's loop")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cases < 1:
        parser.error("--cases must be at least 1")
    dispatch(args, child, parent)


if __name__ == "__main__":
    main()
