"""Benchmark: reply quality (答复质量) — agreement with hand labels, and scoring at 1,000,000 answers.

    python bench/reply_quality.py [--db sqlite|postgres|both] [--data CSV] [--labels CSV] [--replies N] [--hooked N]

1. **Agreement** (no database needed, run in the child for uniformity): the answers of teddy2020c
   replies.csv (by path, never committed) labelled by hand in bench/labels/replies_quality.csv (90 rows,
   good/weak; the rule is in the file's header) are scored with `taizhang.insight.replies` against
   their messages, idf over the 2,816 messages. Printed: precision, recall and F1 of the weak flag,
   the point-biserial correlation of the overall score with the label (good = 1) and the ROC AUC, for
   all labels, for the even-numbered rows (on which the weights and the threshold were chosen) and
   for the odd-numbered rows (held out); a threshold sweep; the mean of each component for good and
   weak answers; the share of all 2,816 answers flagged weak. Timeliness is left out: the data has no
   case clock (its reply delays are printed for reference).
2. **Scale** (`--replies`, default 1,000,000; 0 skips): that many answers scored one after the other
   (the 2,816 pairs over and over) on one core: answers/s, next to the floor of any word-based scorer
   measured in the same run — cutting both texts into words with rjieba and nothing else.
3. **At the reply** (`--hooked`, default 200): demands taken to 办理 through the actions layer, then
   answered through `do_transition("reply")` alternately with the scoring hook connected and
   disconnected: p50/p95 ms of each, and the queries the hook adds.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
import time
from collections import Counter
from datetime import timedelta
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
from bench.similar_cases import NOW, parse_time

DEFAULT_DATA = "/work/shared/data/teddy2020c/replies.csv"
DEFAULT_LABELS = Path(__file__).resolve().parent / "labels" / "replies_quality.csv"
SWEEP = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55)


def read_rows(path: str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def read_labels(path: Path) -> list[dict[str, str]]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    return list(csv.DictReader(lines))


def idf_of(rows: list[dict[str, str]]):
    """idf = ln((N+1)/(df+1)) + 1 over the messages, as the platform's `similar.Weights`."""
    from taizhang.insight.text import terms

    df: Counter[str] = Counter()
    for r in rows:
        df.update(terms(r["留言主题"], r["留言详情"]).keys())
    n = len(rows)
    return lambda w: math.log((n + 1) / (df.get(w, 0) + 1)) + 1


def flags(items: list[tuple[bool, float]], threshold: float) -> dict[str, float]:
    tp = sum(1 for weak, s in items if weak and s < threshold)
    fp = sum(1 for weak, s in items if not weak and s < threshold)
    fn = sum(1 for weak, s in items if weak and s >= threshold)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {
        "precision": p,
        "recall": r,
        "f1": 2 * p * r / (p + r) if p + r else 0.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def auc(items: list[tuple[bool, float]]) -> float:
    """The chance that a good answer scores above a weak one (ties count half)."""
    good = [s for weak, s in items if not weak]
    weak = [s for w, s in items if w]
    wins = sum((g > w) + 0.5 * (g == w) for g in good for w in weak)
    return wins / (len(good) * len(weak)) if good and weak else float("nan")


def agreement(args: argparse.Namespace, say) -> dict[str, Any]:
    from taizhang.insight.replies import COMPONENTS, ReplyScorer
    from taizhang.insight.rules import reply_rules

    rows = read_rows(args.data)
    labels = read_labels(Path(args.labels))
    idf = idf_of(rows)
    rules = reply_rules()
    scorer = ReplyScorer(rules)
    scored = []
    for i, label in enumerate(labels):
        row = rows[int(label["row"])]
        if row["留言编号"].strip() != label["id"]:
            raise SystemExit(f"row {label['row']} of {args.data} is not message {label['id']}: another file?")
        s = scorer.score(row["留言主题"].strip(), " ".join(row["留言详情"].split()), row["答复意见"], idf=idf)
        scored.append((i % 2, label["label"] == "weak", s))
    out: dict[str, Any] = {
        "labels": len(scored),
        "weak": sum(w for _, w, _ in scored),
        "threshold": rules.weak_below,
    }
    for name, part in (
        ("all", scored),
        ("even (tuning)", [x for x in scored if x[0] == 0]),
        ("odd (held out)", [x for x in scored if x[0] == 1]),
    ):
        items = [(w, s.overall) for _, w, s in part]
        corr = statistics.correlation([s for _, s in items], [0.0 if w else 1.0 for w, _ in items])
        out[name] = {
            "n": len(items),
            "weak": sum(w for w, _ in items),
            **flags(items, rules.weak_below),
            "r": corr,
            "auc": auc(items),
        }
    items = [(w, s.overall) for _, w, s in scored]
    out["sweep"] = {t: flags(items, t) for t in SWEEP}
    out["components"] = {
        kind: {
            c: statistics.mean(getattr(s, c) for _, w, s in scored if w == (kind == "weak"))
            for c in COMPONENTS[:3]
        }
        for kind in ("good", "weak")
    }
    everything = [scorer.score(r["留言主题"], r["留言详情"], r["答复意见"], idf=idf) for r in rows]
    out["corpus"] = {"answers": len(everything), "weak": sum(s.weak for s in everything)}
    delays = sorted(
        (parse_time(r["答复时间"]) - parse_time(r["留言时间"])).total_seconds() / 86400
        for r in rows
        if r["答复时间"].strip()
    )
    out["delay_days"] = {"p50": delays[len(delays) // 2], "p90": delays[int(len(delays) * 0.9)]}
    say(f"agreement: {len(scored)} labelled answers scored")
    return out


def scale(args: argparse.Namespace, say) -> dict[str, Any]:
    import rjieba

    from taizhang.insight.replies import ReplyScorer
    from taizhang.insight.rules import reply_rules

    rows = read_rows(args.data)
    idf = idf_of(rows)
    pairs = [(r["留言主题"].strip(), " ".join(r["留言详情"].split()), r["答复意见"]) for r in rows]
    scorer = ReplyScorer(reply_rules())
    n = args.replies
    start, cpu = time.perf_counter(), time.process_time()
    weak = 0
    for i in range(n):
        title, text, answer = pairs[i % len(pairs)]
        weak += scorer.score(title, text, answer, idf=idf).weak
        if (i + 1) % 200_000 == 0:
            say(f"scale: {i + 1:,} answers scored")
    score_s, score_cpu = time.perf_counter() - start, time.process_time() - cpu
    floor_n = min(n, 50_000)
    start = time.perf_counter()
    for i in range(floor_n):
        title, text, answer = pairs[i % len(pairs)]
        rjieba.cut(title + text[:800])
        rjieba.cut(answer)
    floor_s = time.perf_counter() - start
    return {
        "replies": n,
        "score_s": score_s,
        "cpu_s": score_cpu,
        "weak": weak,
        "floor_n": floor_n,
        "floor_s": floor_s,
    }


def hooked(args: argparse.Namespace, say) -> dict[str, Any]:
    from django.db import connection
    from django.db.models.signals import post_save
    from django.test.utils import CaptureQueriesContext

    from bench.common import build_org
    from taizhang.cases.actions import TransitionRequest, do_transition
    from taizhang.cases.create import CaseInput, do_create_case
    from taizhang.cases.models import Transition
    from taizhang.clock.now import pinned
    from taizhang.insight import hooks

    rows = read_rows(args.data)
    org = build_org()
    times: dict[bool, list[float]] = {True: [], False: []}
    queries: dict[bool, list[int]] = {True: [], False: []}
    with pinned(NOW):
        cases = []
        for i in range(args.hooked):
            r = rows[i % len(rows)]
            case, _ = do_create_case(
                org.dispatcher,
                CaseInput(
                    mechanism="demand",
                    title=r["留言主题"].strip()[:200],
                    description=" ".join(r["留言详情"].split()),
                    division=org.grid.code,
                    category="complaint",
                    channel="hotline",
                ),
            )
            do_transition(
                org.dispatcher,
                case.pk,
                TransitionRequest("dispatch", params={"unit": org.safety_bureau.code}),
            )
            do_transition(org.handler, case.pk, TransitionRequest("sign"))
            cases.append((case, r["答复意见"]))
    say(f"at the reply: {len(cases)} demands in 办理; answering them")
    with pinned(NOW + timedelta(days=2)):
        for i, (case, answer) in enumerate(cases):
            on = i % 2 == 0
            if not on:
                post_save.disconnect(hooks.score_reply, sender=Transition, dispatch_uid="insight.score_reply")
            start = time.perf_counter()
            with CaptureQueriesContext(connection) as ctx:
                do_transition(
                    org.handler,
                    case.pk,
                    TransitionRequest("reply", opinion="已答复", fields={"reply": answer}),
                )
            times[on].append(time.perf_counter() - start)
            queries[on].append(len(ctx.captured_queries))
            if not on:
                post_save.connect(hooks.score_reply, sender=Transition, dispatch_uid="insight.score_reply")
    return {
        which: {
            "n": len(times[on]),
            "p50_ms": statistics.median(times[on]) * 1000,
            "p95_ms": sorted(times[on])[int(len(times[on]) * 0.95)] * 1000,
            "queries": statistics.median(queries[on]),
        }
        for which, on in (("with", True), ("without", False))
    }


def child(args: argparse.Namespace) -> None:
    from bench.common import server_version, start_child

    engine, say, _ = start_child()
    result: dict[str, Any] = {"engine": engine, "server": server_version(), "agreement": agreement(args, say)}
    if args.replies:
        result["scale"] = scale(args, say)
    if args.hooked:
        result["hooked"] = hooked(args, say)
    write_json(args.result_file, result)


def report(r: dict[str, Any]) -> None:
    a = r["agreement"]
    print(f"\n== {r['engine']} ({r['server']}) ==")
    print(
        f"agreement with {a['labels']} hand labels ({a['weak']} weak), weak flag = overall < {a['threshold']}:"
    )
    print_table(
        ["labels", "n", "weak", "precision", "recall", "F1", "TP", "FP", "FN", "r(overall, good)", "AUC"],
        [
            [
                k,
                a[k]["n"],
                a[k]["weak"],
                f"{a[k]['precision']:.3f}",
                f"{a[k]['recall']:.3f}",
                f"{a[k]['f1']:.3f}",
                a[k]["tp"],
                a[k]["fp"],
                a[k]["fn"],
                f"{a[k]['r']:.3f}",
                f"{a[k]['auc']:.3f}",
            ]
            for k in ("all", "even (tuning)", "odd (held out)")
        ],
    )
    print("threshold sweep (all labels):")
    print_table(
        ["weak below", "precision", "recall", "F1"],
        [
            [f"{t}", f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}"]
            for t, m in a["sweep"].items()
        ],
    )
    c = a["components"]
    print(
        "mean components, good vs weak: "
        + ", ".join(
            f"{k} {c['good'][k]:.2f} vs {c['weak'][k]:.2f}"
            for k in ("relevance", "completeness", "interpretability")
        )
    )
    print(
        f"all {a['corpus']['answers']:,} answers: {a['corpus']['weak']:,} flagged weak "
        f"({a['corpus']['weak'] / a['corpus']['answers']:.1%}); reply delay p50 {a['delay_days']['p50']:.1f} d, "
        f"p90 {a['delay_days']['p90']:.1f} d (not scored: no case clock in the data)"
    )
    s = r.get("scale")
    if s:
        rate = s["replies"] / s["score_s"]
        floor = s["floor_n"] / s["floor_s"]
        print(
            f"\nscale: {s['replies']:,} answers scored in {s['score_s']:.0f} s = {fmt_rate(rate)} answers/s "
            f"(CPU {s['cpu_s'] / s['score_s']:.0%} of wall); baseline, word cutting alone: {fmt_rate(floor)} pairs/s "
            f"(word cutting alone is {floor / rate:.1f} × faster)"
        )
    h = r.get("hooked")
    if h:
        print(
            f"\nat the reply ({h['with']['n']} + {h['without']['n']} answers): do_transition('reply') p50 "
            f"{h['with']['p50_ms']:.1f} ms / p95 {h['with']['p95_ms']:.1f} ms with scoring, "
            f"{h['without']['p50_ms']:.1f} / {h['without']['p95_ms']:.1f} ms without; "
            f"queries {h['with']['queries']:.0f} vs {h['without']['queries']:.0f}"
        )


def main() -> None:
    parser = data_parser(__doc__, DEFAULT_DATA, DEFAULT_LABELS)
    parser.add_argument(
        "--replies", type=int, default=1_000_000, help="answers scored for throughput (0: skip)"
    )
    parser.add_argument(
        "--hooked", type=int, default=200, help="answers given through the actions layer (0: skip)"
    )
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    run_per_engine(args, __file__, ["--replies", str(args.replies), "--hooked", str(args.hooked)], report)


if __name__ == "__main__":
    main()
