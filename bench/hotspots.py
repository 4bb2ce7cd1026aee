"""Benchmark: hot spots (热点) — the top groups of hot_messages.csv, and grouping at 1,000,000 demands.

    python bench/hotspots.py [--db sqlite|postgres|both] [--data CSV] [--labels CSV] [--demands N] [--adds N]

For each database a throw-away database is created and migrated (see bench/common.py). Then:

1. **hot_messages.csv** (teddy2020c, by path, never committed): every message becomes a 12345 demand
   (title 留言主题, description 留言详情, created at 留言时间, filed on the web by one account per
   留言用户, 点赞数 supporters as "me too" rows), indexed for similarity and grouped by
   `taizhang hotspots rebuild`. Printed: the top groups by heat at the last message's time and by
   heat without decay (name, heat, demands, reporters, supporters, span), and the pairwise
   precision/recall of "in the same group" on the labelled pairs of bench/labels/hot_messages_pairs.csv.
   Then the groups are rebuilt one demand at a time (`add_case`, as at intake) in time order: per-add
   latency and how far the two groupings agree (pairwise, the rebuild as reference).
2. **Scale** (`--demands`, default 1,000,000; 0 skips): generated demands over 365 days in one district —
   the messages' texts with the places they name replaced by a random estate (one of 20 × 5 ×
   70 names), 30 % of them repeating a recent demand's message and estate (so that hot spots form), callers from a pool of 300,000 phones — inserted and
   indexed in batches, then grouped by the rebuild: demands/s, next to the baselines measured on the
   same database: reading the same rows without grouping, and inserting the member rows written with
   executemany / INSERT per row / COPY. Then `--adds` new demands through `do_create_case` and, timed
   apart, `add_case` for each (p50/p95/max, queries), and the dashboard query (`top_hotspots`) as the
   district leader (stored figures) and as a street dispatcher (visible demands counted).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    data_parser,
    fmt_rate,
    print_table,
    run_per_engine,
)
from bench.common import write_result as write_json
from bench.hotspot_scale import analyze, scale
from bench.similar_cases import parse_time, prf, read_labels, read_messages

DEFAULT_DATA = "/work/shared/data/teddy2020c/hot_messages.csv"
DEFAULT_LABELS = Path(__file__).resolve().parent / "labels" / "hot_messages_pairs.csv"
TOP = 15


def users(names: list[str], prefix: str) -> dict[str, int]:
    """One account per name (unusable passwords, no hashing); name -> user id."""
    from taizhang.org.models import User

    User.objects.bulk_create(
        [User(username=f"{prefix}{i}", password="!", display_name=n) for i, n in enumerate(names)]
    )
    ids = dict(User.objects.filter(username__startswith=prefix).values_list("username", "id"))
    return {n: ids[f"{prefix}{i}"] for i, n in enumerate(names)}


def partition() -> dict[int, int]:
    from taizhang.insight.models import HotSpotMember

    return dict(HotSpotMember.objects.values_list("case_id", "hotspot_id"))


def pair_agreement(reference: dict[int, int], other: dict[int, int]) -> dict[str, float]:
    """Pairwise precision/recall of `other`'s "same group" against `reference`'s (ungrouped = alone)."""
    from collections import Counter

    def pairs(counts) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    both = Counter((reference[c], other[c]) for c in reference.keys() & other.keys())
    common, ref, oth = pairs(both), pairs(Counter(reference.values())), pairs(Counter(other.values()))
    return {"precision": common / oth if oth else 1.0, "recall": common / ref if ref else 1.0}


def spot_rows(spots, now) -> list[dict[str, Any]]:
    from taizhang.insight.hotspots import heat_at
    from taizhang.insight.rules import hotspot_rules

    rules = hotspot_rules().heat
    return [
        {
            "name": s.name,
            "heat": heat_at(rules, s.mass, s.last_at, now),
            "mass": s.mass,
            "count": s.count,
            "reporters": s.reporters,
            "support": s.support,
            "first": f"{s.first_at:%Y-%m-%d}",
            "last": f"{s.last_at:%Y-%m-%d}",
            "span": (s.last_at - s.first_at).total_seconds() / 86400,
        }
        for s in spots
    ]


def quality(args: argparse.Namespace, org: Any, say) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from taizhang.cases.models import Case
    from taizhang.insight.hotspot_index import add_case, rebuild
    from taizhang.insight.models import CaseSupporter, HotSpot, HotSpotMember
    from taizhang.insight.similar import index_cases

    messages = read_messages(args.data)
    authors = users(sorted({m["留言用户"].strip() for m in messages}), "author")
    likes = [int(m["点赞数"] or 0) for m in messages]
    fans = list(users([f"fan{i}" for i in range(max(likes))], "fan").values())
    cases = Case.objects.bulk_create(
        [
            Case(
                mechanism="demand",
                number=f"HM-{i:07d}",
                region="EVAL",
                title=m["留言主题"].strip()[:200],
                description=" ".join(m["留言详情"].split()),
                category="complaint",
                grade="general",
                channel="web",
                state="accepted",
                state_kind="open",
                division=org.grid,
                reporter_id=authors[m["留言用户"].strip()],
                state_entered_at=parse_time(m["留言时间"]),
                created_at=parse_time(m["留言时间"]),
                updated_at=parse_time(m["留言时间"]),
                external_id=m["留言编号"].strip(),
            )
            for i, m in enumerate(messages)
        ],
        batch_size=2000,
    )
    CaseSupporter.objects.bulk_create(
        [
            CaseSupporter(case=c, user_id=fans[k], created_at=c.created_at)
            for c, n in zip(cases, likes, strict=True)
            for k in range(n)
        ],
        batch_size=5000,
    )
    index_cases(cases)
    analyze()
    start = time.perf_counter()
    rebuild(["EVAL"])
    rebuild_s = time.perf_counter() - start
    end = max(c.created_at for c in cases)
    spots = HotSpot.objects.filter(scope="EVAL:demand")
    say(f"quality: {len(cases)} messages grouped in {rebuild_s:.1f} s into {spots.count()} hot spots")
    by_ext = {c.pk: c.external_id for c in cases}
    groups = {by_ext[c]: g for c, g in partition().items()}
    labels = read_labels(Path(args.labels))
    labelled = prf([(y, a in groups and groups.get(a) == groups.get(b)) for a, b, y in labels])
    reference = partition()
    out = {
        "messages": len(cases),
        "rebuild_s": rebuild_s,
        "groups": spots.count(),
        "grouped": len(reference),
        "by_heat": spot_rows(spots.order_by("-rank_key")[:TOP], end),
        "by_mass": spot_rows(spots.order_by("-mass")[:TOP], end),
        "labelled": labelled,
        "pairs": len(labels),
        "data_end": f"{end:%Y-%m-%d %H:%M}",
    }
    HotSpotMember.objects.all().delete()
    HotSpot.objects.all().delete()
    times, queries = [], []
    for case in sorted(Case.objects.filter(region="EVAL"), key=lambda c: (c.created_at, c.pk)):
        connection.queries_log.clear()  # a full log (9,000 queries) would count none
        start = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            add_case(case)
        times.append(time.perf_counter() - start)
        queries.append(len(ctx.captured_queries))
    times.sort()
    incremental = partition()
    groups = {by_ext[c]: g for c, g in incremental.items()}
    out["incremental"] = {
        "p50_ms": statistics.median(times) * 1000,
        "p95_ms": times[int(len(times) * 0.95)] * 1000,
        "max_ms": times[-1] * 1000,
        "queries": max(queries),
        "groups": len(set(incremental.values())),
        "agreement": pair_agreement(reference, incremental),
        "labelled": prf([(y, a in groups and groups.get(a) == groups.get(b)) for a, b, y in labels]),
    }
    return out


def child(args: argparse.Namespace) -> None:
    from bench.common import build_org, server_version, start_child

    engine, say, migrate_s = start_child()
    say(f"{server_version()}: migrated in {migrate_s:.1f} s")
    org = build_org()
    result: dict[str, Any] = {"engine": engine, "server": server_version()}
    if not args.skip_quality:
        result["quality"] = quality(args, org, say)
    if args.demands:
        result["scale"] = scale(args, org, say)
    write_json(args.result_file, result)


def report(r: dict[str, Any]) -> None:
    print(f"\n== {r['engine']} ({r['server']}) ==")
    q = r.get("quality")
    if q:
        print(
            f"hot_messages.csv: {q['messages']} messages → {q['groups']} hot spots of 2 or more "
            f"({q['grouped']} messages grouped), rebuilt in {q['rebuild_s']:.1f} s"
        )
        for key, title in (
            ("by_heat", f"heat at the last message ({q['data_end']})"),
            ("by_mass", "heat without decay"),
        ):
            print(f"\ntop {TOP} by {title}:")
            print_table(
                ["hot spot", "heat", "no decay", "demands", "people", "support", "first", "last", "span d"],
                [
                    [
                        s["name"],
                        f"{s['heat']:.3f}",
                        f"{s['mass']:.2f}",
                        s["count"],
                        s["reporters"],
                        s["support"],
                        s["first"],
                        s["last"],
                        f"{s['span']:.0f}",
                    ]
                    for s in q[key]
                ],
            )
        lab, inc = q["labelled"], q["incremental"]
        print(
            f"\nlabelled pairs ({q['pairs']}): same group precision {lab['precision']:.3f}, recall {lab['recall']:.3f} "
            f"(TP {lab['tp']}, FP {lab['fp']}, FN {lab['fn']})"
        )
        print(
            f"one by one (add_case in time order): p50 {inc['p50_ms']:.1f} ms, p95 {inc['p95_ms']:.1f} ms, "
            f"max {inc['max_ms']:.1f} ms, ≤ {inc['queries']} queries; {inc['groups']} groups; against the rebuild "
            f"pairwise precision {inc['agreement']['precision']:.3f}, recall {inc['agreement']['recall']:.3f}; "
            f"labelled pairs P {inc['labelled']['precision']:.3f} R {inc['labelled']['recall']:.3f}"
        )
    s = r.get("scale")
    if s:
        rate = s["demands"] / s["group_s"]
        print(
            f"\nscale: {s['demands']:,} demands (inserted {s['insert_s']:.0f} s, indexed {s['index_s']:.0f} s = "
            f"{fmt_rate(s['demands'] / s['index_s'])}/s) → {s['groups']:,} hot spots, {s['members']:,} grouped"
        )
        rows = [["rebuild (read, group, write)", fmt_rate(rate), "demands/s", f"{s['group_s']:.0f} s"]]
        rows.append(
            [
                "baseline: read the same rows",
                fmt_rate(s["read"] / s["read_s"]),
                "rows/s",
                f"{s['read_s']:.0f} s",
            ]
        )
        rows += [
            [f"baseline: {b['name']} (member rows)", fmt_rate(b["rate"]), "rows/s", ""]
            for b in s["baselines"]
        ]
        print_table(["what", "rate", "unit", "time"], rows)
        a = s["adds"]
        per_row = next((b["rate"] for b in s["baselines"] if b["name"] == "INSERT per-row txn"), None)
        print(
            f"incremental add at {s['demands']:,}: p50 {a['p50_ms']:.1f} ms, p95 {a['p95_ms']:.1f} ms, max {a['max_ms']:.1f} ms, "
            f"≤ {a['queries']} queries ({a['joined']} of {a['n']} joined a group); do_create_case itself p50 "
            f"{a['create_p50_ms']:.1f} ms; one-row INSERT transaction {1000 / per_row:.2f} ms"
            if per_row
            else ""
        )
        print(
            f"dashboard (top 10, last 90 days, {s['active_spots']:,} active hot spots): district leader "
            f"{s['dashboard_leader_ms']:.1f} ms, street dispatcher {s['dashboard_dispatcher_ms']:.1f} ms"
        )


def main() -> None:
    parser = data_parser(__doc__, DEFAULT_DATA, DEFAULT_LABELS)
    parser.add_argument(
        "--demands", type=int, default=1_000_000, help="generated demands for scale (0: skip)"
    )
    parser.add_argument(
        "--adds", type=int, default=200, help="demands added one at a time after the scale load"
    )
    parser.add_argument("--skip-quality", action="store_true", help="only the scale test")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    passed = ["--demands", str(args.demands), "--adds", str(args.adds)]
    passed += ["--skip-quality"] if args.skip_quality else []
    run_per_engine(args, __file__, passed, report)


if __name__ == "__main__":
    main()
