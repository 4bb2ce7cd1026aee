"""Benchmark: the similar-case suggestion — precision/recall on hand-labelled pairs, lookup latency at 100k.

    python bench/similar_cases.py [--db sqlite|postgres|both] [--data CSV] [--labels CSV] [--cases N]

For each database a throw-away database is created and migrated (see bench/common.py). Then:

1. **Quality.** Every message of hot_messages.csv (teddy2020c; by default
   /work/shared/data/teddy2020c/hot_messages.csv, `--data`) becomes an open 12345 demand of one district
   (title = 留言主题, description = 留言详情, created at 留言时间) and is indexed with
   `taizhang.insight.similar.index_cases`. For each labelled pair of bench/labels/hot_messages_pairs.csv:
   * pairwise: b's score as "the same problem as a" (`score_pair`, IDF over the 4,326 messages); a pair
     is suggested when the score reaches the threshold — precision, recall and F1 at the default
     threshold and a sweep;
   * end to end: is b among a's suggestions from `similar_cases` (top 5 over the whole index, no time
     window since the messages span 2.5 years), or a among b's?
2. **Latency.** `--cases` (default 100,000) synthetic open demands in another district, created in the
   last 30 days: the messages' texts again, each with a random estate name put in front, so words and
   places repeat as in a real district. Then `similar_cases` for 200 of them, as a street dispatcher
   (permission-filtered) and as the district leader; p50/p95/max and queries per lookup. Baseline on
   the same database: listing the ids of every open case of the window (what any scan must at least
   read), and scoring a lookup against all open cases in Python (measured on 2,000, scaled up).
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    data_parser,
    print_table,
    run_per_engine,
    write_result,
)

DEFAULT_DATA = "/work/shared/data/teddy2020c/hot_messages.csv"
DEFAULT_LABELS = Path(__file__).resolve().parent / "labels" / "hot_messages_pairs.csv"
CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=CST)
SWEEP = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)
LOOKUPS = 200


def read_messages(path: str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def read_labels(path: Path) -> list[tuple[str, str, int]]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    return [(r["a"], r["b"], int(r["same"])) for r in csv.DictReader(lines)]


def parse_time(text: str) -> datetime:
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=CST)
        except ValueError:
            continue
    return NOW


def make_cases(rows: list[dict[str, Any]], region: str, division: Any, prefix: str) -> list[Any]:
    """Open 12345 demands written directly (bulk), bypassing the engine: only what the matcher reads."""
    from taizhang.cases.models import Case

    cases = [
        Case(
            mechanism="demand",
            number=f"{prefix}-{i:07d}",
            region=region,
            title=r["title"][:200],
            description=r["description"],
            category="complaint",
            grade="general",
            channel="web",
            state="accepted",
            state_kind="open",
            division=division,
            state_entered_at=r["at"],
            created_at=r["at"],
            updated_at=r["at"],
            external_id=r.get("id", ""),
        )
        for i, r in enumerate(rows)
    ]
    return Case.objects.bulk_create(cases, batch_size=2000)


def analyze() -> None:
    """Fresh planner statistics after a bulk load, as autovacuum keeps them in a live database."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")


def prf(pairs: list[tuple[int, bool]]) -> dict[str, float]:
    tp = sum(1 for y, p in pairs if y and p)
    fp = sum(1 for y, p in pairs if not y and p)
    fn = sum(1 for y, p in pairs if y and not p)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def quality(args: argparse.Namespace, org: Any, say: Any) -> dict[str, Any]:
    from taizhang.cases.models import Case
    from taizhang.insight import similar as sim

    messages = read_messages(args.data)
    labels = read_labels(Path(args.labels))
    rows = [
        {
            "id": m["留言编号"].strip(),
            "title": m["留言主题"].strip(),
            "description": " ".join(m["留言详情"].split()),
            "at": parse_time(m["留言时间"]),
        }
        for m in messages
    ]
    cases = make_cases(rows, "EVAL", org.grid, "EV")
    start = time.perf_counter()
    sim.index_cases(cases)
    index_s = time.perf_counter() - start
    analyze()
    say(f"quality: {len(cases)} messages indexed in {index_s:.1f} s; scoring {len(labels)} labelled pairs")
    by_id = {c.external_id: c for c in Case.objects.filter(region="EVAL").select_related("tokens")}
    missing = [(a, b) for a, b, _ in labels if a not in by_id or b not in by_id]
    if missing:
        raise SystemExit(f"labelled messages not in {args.data}: {missing[:5]}")
    scope = sim.scope_of(cases[0])
    weights = sim.Weights(scope, [])
    weights.add(scope, {t for c in by_id.values() for t in sim.index_terms(c.tokens.terms, c.tokens.places)})
    scores = []
    for a, b, same in labels:
        ca, cb = by_id[a], by_id[b]
        s = sim.score_pair(
            weights, ca, ca.tokens.terms, ca.tokens.places, cb, cb.tokens.terms, cb.tokens.places
        )
        scores.append((same, s.score))
    sweep = {t: prf([(y, s >= t) for y, s in scores]) for t in SWEEP + (sim.THRESHOLD,)}
    visible = Case.objects.filter(region="EVAL")
    suggested: dict[str, set[str]] = {}
    for ident in {x for a, b, _ in labels for x in (a, b)}:
        found = sim.similar_cases(by_id[ident], visible, since=None, limit=5)
        suggested[ident] = {s.case.external_id for s in found}
    e2e = prf([(y, b in suggested[a] or a in suggested[b]) for a, b, y in labels])
    return {
        "pairs": len(labels),
        "positives": sum(y for _, _, y in labels),
        "index_s": index_s,
        "messages": len(cases),
        "sweep": sweep,
        "threshold": sim.THRESHOLD,
        "end_to_end": e2e,
    }


def latency(args: argparse.Namespace, org: Any, say: Any) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from taizhang.cases.models import Case
    from taizhang.insight import similar as sim

    rng = random.Random(42)
    messages = read_messages(args.data)
    estates = [
        a + b for a in "金银锦华翠绿丽景泰和安康富盛" for b in ("园小区", "苑", "家园", "新城", "花园")
    ]
    rows = []
    for i in range(args.cases):
        m = messages[i % len(messages)]
        estate = rng.choice(estates) + str(rng.randint(1, 40))
        rows.append(
            {
                "title": f"{estate}{m['留言主题'].strip()}",
                "description": f"{estate}{' '.join(m['留言详情'].split())}",
                "at": NOW - timedelta(seconds=rng.randint(0, 29 * 86400)),
            }
        )
    start = time.perf_counter()
    cases = make_cases(rows, org.grid.district().code, org.grid, "SY")
    insert_s = time.perf_counter() - start
    start = time.perf_counter()
    for k in range(0, len(cases), 10_000):
        sim.index_cases(cases[k : k + 10_000])
    index_s = time.perf_counter() - start
    analyze()
    say(f"latency: {len(cases)} open cases inserted in {insert_s:.1f} s, indexed in {index_s:.1f} s")
    since = NOW - timedelta(days=30)
    picks = rng.sample(cases, LOOKUPS)
    out: dict[str, Any] = {"cases": len(cases), "insert_s": insert_s, "index_s": index_s}
    for who in ("dispatcher", "leader"):
        user = getattr(org, who)
        times, queries, found = [], [], 0
        for case in picks:
            user.__dict__.pop("_taizhang_grants", None)  # roles loaded afresh, as in a request
            start = time.perf_counter()
            with CaptureQueriesContext(connection) as ctx:
                result = sim.similar_cases(case, Case.objects.for_user(user), since=since, limit=5)
            times.append(time.perf_counter() - start)
            queries.append(len(ctx.captured_queries))
            found += len(result)
        times.sort()
        out[who] = {
            "p50_ms": statistics.median(times) * 1000,
            "p95_ms": times[int(len(times) * 0.95)] * 1000,
            "max_ms": times[-1] * 1000,
            "queries": max(queries),
            "suggestions": found / len(picks),
        }
    open_window = Case.objects.filter(
        region=org.grid.district().code, mechanism="demand", created_at__gte=since
    )
    start = time.perf_counter()
    n_ids = len(list(open_window.exclude(state_kind="closed").values_list("id", flat=True)))
    out["baseline_list_ids_ms"] = (time.perf_counter() - start) * 1000
    out["baseline_ids"] = n_ids
    sample = list(open_window.select_related("tokens")[:2000])
    weights = sim.Weights(sim.scope_of(picks[0]), [])
    weights.add(sim.scope_of(picks[0]), {t for c in sample for t in c.tokens.terms})
    words, places = sim.case_words(picks[0])
    start = time.perf_counter()
    for c in sample:
        sim.score_pair(weights, picks[0], words, places, c, c.tokens.terms, c.tokens.places)
    out["baseline_bruteforce_ms"] = (time.perf_counter() - start) * 1000 * n_ids / len(sample)
    return out


def child(args: argparse.Namespace) -> None:
    from bench.common import build_org, server_version, start_child

    engine, say, migrate_s = start_child()
    say(f"{server_version()}: migrated in {migrate_s:.1f} s")
    org = build_org()
    result = {"engine": engine, "server": server_version(), "quality": quality(args, org, say)}
    if args.cases:
        result["latency"] = latency(args, org, say)
    write_result(args.result_file, result)


def report(r: dict[str, Any]) -> None:
    q = r["quality"]
    print(f"\n== {r['engine']} ({r['server']}) ==")
    print(
        f"quality: {q['pairs']} labelled pairs ({q['positives']} same problem) over {q['messages']} messages "
        f"(indexed in {q['index_s']:.1f} s)"
    )
    rows = []
    for t, m in sorted(q["sweep"].items(), key=lambda kv: float(kv[0])):
        mark = " ← default" if float(t) == q["threshold"] else ""
        rows.append(
            [
                f"{float(t):.2f}{mark}",
                f"{m['precision']:.3f}",
                f"{m['recall']:.3f}",
                f"{m['f1']:.3f}",
                m["tp"],
                m["fp"],
                m["fn"],
            ]
        )
    print_table(["threshold (pairwise)", "precision", "recall", "F1", "TP", "FP", "FN"], rows)
    e = q["end_to_end"]
    print(
        f"end to end (b in a's top-5 suggestions or a in b's, threshold {q['threshold']}): precision "
        f"{e['precision']:.3f}, recall {e['recall']:.3f}, F1 {e['f1']:.3f} (TP {e['tp']}, FP {e['fp']}, FN {e['fn']})"
    )
    lat = r.get("latency")
    if lat:
        print(
            f"\nlatency: {lat['cases']:,} open cases in one district (inserted {lat['insert_s']:.1f} s, "
            f"indexed {lat['index_s']:.1f} s = {lat['cases'] / lat['index_s']:,.0f} cases/s); {LOOKUPS} lookups"
        )
        print_table(
            ["lookup as", "p50 ms", "p95 ms", "max ms", "queries", "suggestions/lookup"],
            [
                [
                    who,
                    f"{lat[who]['p50_ms']:.1f}",
                    f"{lat[who]['p95_ms']:.1f}",
                    f"{lat[who]['max_ms']:.1f}",
                    lat[who]["queries"],
                    f"{lat[who]['suggestions']:.1f}",
                ]
                for who in ("dispatcher", "leader")
            ],
        )
        print(
            f"baseline: listing the ids of the window's {lat['baseline_ids']:,} open cases "
            f"{lat['baseline_list_ids_ms']:.1f} ms; scoring all of them in Python ≈ "
            f"{lat['baseline_bruteforce_ms']:.0f} ms"
        )


def main() -> None:
    parser = data_parser(__doc__, DEFAULT_DATA, DEFAULT_LABELS)
    parser.add_argument(
        "--cases", type=int, default=100_000, help="synthetic open cases for latency (0: skip)"
    )
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    run_per_engine(args, __file__, ["--cases", str(args.cases)], report)


if __name__ == "__main__":
    main()
