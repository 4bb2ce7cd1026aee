"""Benchmark: the topic classifier of automatic dispatch — grouped cross-validated macro-F1, training
time, prediction rate on one core, and what a suggestion costs at intake.

    python bench/classifier.py [--data train_combined.csv] [--raw train_raw.csv] [--folds 5]
                               [--ungrouped] [--db sqlite|postgres|both|none] [--cases 300]

1. **Quality.** Stratified K-fold cross-validation *grouped* by near-duplicates
   (`taizhang.insight.classify.groups`: a message, its copies and its stop-word-free segmented version
   always fall in the same fold), on `--data` (default the Teddy Cup's train_combined.csv, raw and
   segmented messages) and on `--raw` alone (train_raw.csv). Printed next to two baselines measured
   on the same folds: the majority class, and multinomial naive Bayes on a bag of rjieba words. For
   the combined data also the macro-F1 on its raw test rows only, and from the out-of-fold predictions
   how many messages reach each confidence threshold and how many of those are right.
   `--ungrouped` adds plain stratified folds, to show how much duplicates inflate a score; `--no-cv`
   skips cross-validation (speed and intake only).
2. **Speed** (one core: BLAS threads are limited to one; liblinear is single-threaded). Training on
   all of `--data`, as `taizhang insight train --holdout 0` does; prediction of every `--raw` message
   in batches of 500 and one at a time, next to the naive Bayes baseline's batch rate.
3. **Intake** (`--db`, default sqlite; a throw-away database per engine, see bench/common.py).
   `--cases` demands created through `do_create_case` without a model (the baseline), with the
   model giving a suggestion, and with automatic dispatch on (a system 派单 per case): ms per case.

Never reads evaluation.sealed.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one core, before numpy
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.common import (  # noqa: E402
    DEFAULT_POSTGRES_ADMIN_URL,
    ENGINES,
    fmt_rate,
    print_table,
    run_child,
    throwaway_database,
    write_result,
)

DATA_DIR = "/work/shared/data/teddy2020c"
PINNED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
SEED = 0
WARM_UP = 5


def read(path: str):
    from taizhang.insight.classify.data import read_csv

    return read_csv(path)


def naive_bayes():
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    from taizhang.insight.classify.features import words

    return make_pipeline(CountVectorizer(analyzer=words), MultinomialNB())


def cross_validate(texts: list[str], labels: list[str], folds: int, grouped: bool) -> dict:
    """Out-of-fold predictions of the model and the baselines; scores per fold and pooled."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    from taizhang.insight.classify import model
    from taizhang.insight.classify.groups import duplicate_groups
    from taizhang.insight.classify.metrics import evaluate

    y = np.array(labels)
    groups = duplicate_groups(texts) if grouped else np.arange(len(texts))
    splitter = (
        StratifiedGroupKFold(folds, shuffle=True, random_state=SEED)
        if grouped
        else StratifiedKFold(folds, shuffle=True, random_state=SEED)
    )
    out = {name: np.empty(len(y), dtype=object) for name in ("model", "nb", "majority")}
    confidence = np.zeros(len(y))
    per_fold: dict[str, list[float]] = {name: [] for name in out}
    for k, (train, test) in enumerate(splitter.split(texts, y, groups)):
        start = time.perf_counter()
        train_texts, test_texts = [texts[i] for i in train], [texts[i] for i in test]
        pipeline = model.train_pipeline(train_texts, y[train].tolist())
        predicted = model.predict(pipeline, test_texts)
        out["model"][test] = [p.label for p in predicted]
        confidence[test] = [p.confidence for p in predicted]
        out["nb"][test] = naive_bayes().fit(train_texts, y[train]).predict(test_texts)
        values, counts = np.unique(y[train], return_counts=True)
        out["majority"][test] = values[np.argmax(counts)]
        for name in out:
            per_fold[name].append(evaluate(y[test].tolist(), out[name][test].tolist()).macro_f1)
        print(f"    fold {k + 1}/{folds}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return {
        "groups": int(len(set(groups.tolist()))),
        "predicted": out,
        "confidence": confidence,
        "folds": per_fold,
        "pooled": {name: evaluate(labels, out[name].tolist()) for name in out},
    }


def quality(args: argparse.Namespace) -> dict:
    from taizhang.insight.classify.metrics import evaluate, report

    results = {}
    combined, raw = read(args.data), read(args.raw)
    runs = [("combined", combined, True), ("raw", raw, True)]
    if args.ungrouped:
        runs.append(("combined, ungrouped", combined, False))
    for name, data, grouped in runs:
        print(f"  cross-validating {name} ({len(data.texts)} rows)", file=sys.stderr, flush=True)
        results[name] = cv = cross_validate(data.texts, data.labels, args.folds, grouped)
        rows = []
        for method, label in (
            ("model", "TF-IDF words+chars, NB-SVM + stacked LR"),
            ("nb", "NB bag of words"),
            ("majority", "majority class"),
        ):
            folds = cv["folds"][method]
            rows.append(
                [
                    label,
                    f"{statistics.mean(folds):.4f}",
                    f"{statistics.pstdev(folds):.4f}",
                    f"{min(folds):.4f}–{max(folds):.4f}",
                    f"{cv['pooled'][method].accuracy:.4f}",
                ]
            )
        kind = "grouped" if grouped else "NOT grouped"
        print(
            f"\n{name}: {len(data.texts)} rows, {cv['groups']} groups of near-copies, {args.folds}-fold {kind}"
        )
        print_table(["method", "macro-F1 mean", "sd", "folds", "accuracy"], rows)
    cv = results["combined"]
    truth = np.array(combined.labels)
    source = read_source(args.data)
    if source is not None and len(source) == len(truth):
        is_raw = source == "raw"
        on_raw = evaluate(truth[is_raw].tolist(), cv["predicted"]["model"][is_raw].tolist())
        print(f"\ncombined, raw rows of the test folds only ({is_raw.sum()}): macro-F1 {on_raw.macro_f1:.4f}")
    print("\nout-of-fold per class and confusion matrix (combined, grouped):")
    print(report(cv["pooled"]["model"]))
    right = cv["predicted"]["model"] == truth
    rows = []
    for t in THRESHOLDS:
        above = cv["confidence"] >= t
        share = above.mean()
        rows.append(
            [
                f"≥ {t}",
                f"{share:.1%}",
                f"{right[above].mean():.2%}" if above.any() else "—",
                f"{right[~above].mean():.2%}" if (~above).any() else "—",
            ]
        )
    print("\nconfidence threshold (combined, out-of-fold): share reaching it, accuracy above, accuracy below")
    print_table(["threshold", "covered", "accuracy above", "accuracy below"], rows)
    return results


def read_source(path: str):
    """The `source` column of train_combined.csv (raw / segmented), when the file has one."""
    import csv

    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if "source" not in (reader.fieldnames or []):
            return None
        return np.array(
            [
                (r.get("source") or "")
                for r in reader
                if (r.get("content") or "").strip() and (r.get("一级标签") or "").strip()
            ]
        )


def speed(args: argparse.Namespace, model_dir: Path) -> dict:
    from taizhang.insight.classify import model
    from taizhang.insight.classify.store import activate, save_model

    data, raw = read(args.data), read(args.raw)
    start = time.perf_counter()
    pipeline = model.train_pipeline(data.texts, data.labels)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    nb = naive_bayes().fit(data.texts, data.labels)
    nb_train_s = time.perf_counter() - start
    texts = raw.texts
    start = time.perf_counter()
    for i in range(0, len(texts), 500):
        model.predict(pipeline, texts[i : i + 500])
    batch_s = time.perf_counter() - start
    start = time.perf_counter()
    for text in texts[:500]:
        model.predict(pipeline, [text])
    single_s = (time.perf_counter() - start) / min(500, len(texts))
    start = time.perf_counter()
    for i in range(0, len(texts), 500):
        nb.predict(texts[i : i + 500])
    nb_batch_s = time.perf_counter() - start
    stored = save_model(
        pipeline,
        model_dir,
        labels=[str(c) for c in pipeline.classes_],
        training={"sha256": data.sha256(), "rows": len(data.texts)},
        metrics={},
        params={},
    )
    activate(model_dir, stored.version)
    size = sum(p.stat().st_size for p in stored.path.iterdir())
    print(f"\nspeed on one core ({len(data.texts)} training rows; {len(texts)} raw messages predicted):")
    print_table(
        ["", "model", "NB baseline"],
        [
            ["training s", f"{train_s:.1f}", f"{nb_train_s:.1f}"],
            [
                "prediction msgs/s (batches of 500)",
                fmt_rate(len(texts) / batch_s),
                fmt_rate(len(texts) / nb_batch_s),
            ],
            ["one message at a time, ms", f"{single_s * 1000:.2f}", "—"],
        ],
    )
    print(f"stored model: {size / 1e6:.1f} MB ({stored.path.name})")
    return {
        "train_s": train_s,
        "rate": len(texts) / batch_s,
        "single_ms": single_s * 1000,
        "nb_rate": len(texts) / nb_batch_s,
    }


# ------------------------------------------------------------------------------------------ intake


def child(args: argparse.Namespace) -> None:
    from bench.common import build_org, server_version, setup_django, vendor

    setup_django()
    from taizhang.cases.create import CaseInput, do_create_case
    from taizhang.cases.models import Case
    from taizhang.clock.now import pinned
    from taizhang.insight.classify import routing

    texts = read(args.raw).texts
    rules = Path(tempfile.mkdtemp()) / "dispatch.yaml"

    def use_rules(auto: bool) -> None:
        units = "".join(f"      {label}: LZQ-YJJ\n" for label in sorted(set(read(args.raw).labels)))
        rules.write_text(
            "mechanism: demand\nfield: topic\ntransition: dispatch\nthreshold: 0.9\nauto_dispatch: false\n"
            f"localities:\n  LZQ:\n    auto_dispatch: {str(auto).lower()}\n    units:\n{units}",
            encoding="utf-8",
        )
        routing.routing_path = lambda: rules
        routing.reset_routing()

    figures = {"server": server_version()}
    with pinned(PINNED_AT):
        org = build_org()
        model_dir = os.environ["TAIZHANG_MODEL_DIR"]
        for name, with_model, auto in (
            ("no model", False, False),
            ("suggestion", True, False),
            ("auto-dispatch", True, True),
        ):
            from django.conf import settings

            settings.TAIZHANG_MODEL_DIR = Path(model_dir if with_model else tempfile.mkdtemp())
            use_rules(auto)

            def create(i: int) -> int:
                text = texts[i % len(texts)]
                data = CaseInput(
                    "demand", text[:60], org.grid.code, "complaint", description=text, channel="hotline"
                )
                return do_create_case(org.dispatcher, data)[0].pk

            for i in range(WARM_UP):  # the year's number sequence, the model and the rules loaded
                create(i)
            ids = []
            start = time.perf_counter()
            for i in range(args.cases):
                ids.append(create(WARM_UP + i))
            seconds = time.perf_counter() - start
            dispatched = Case.objects.filter(pk__in=ids, state="dispatched").count()
            figures[name] = {"ms": seconds / args.cases * 1000, "dispatched": dispatched}
            print(
                f"  [{vendor()}] {name}: {seconds / args.cases * 1000:.2f} ms/case",
                file=sys.stderr,
                flush=True,
            )
    write_result(args.result_file, figures)


def parent(args: argparse.Namespace) -> None:
    if not args.no_cv:
        quality(args)
    with tempfile.TemporaryDirectory(prefix="taizhang-models-") as tmp:
        speed(args, Path(tmp))
        if args.db == "none":
            return
        os.environ["TAIZHANG_MODEL_DIR"] = tmp
        rows = []
        for engine in ENGINES if args.db == "both" else (args.db,):
            with throwaway_database(engine, args.postgres_url) as url:
                f = run_child(Path(__file__), ["--raw", args.raw, "--cases", str(args.cases)], url)
            base = f["no model"]["ms"]
            for name in ("no model", "suggestion", "auto-dispatch"):
                rows.append(
                    [
                        f"{f['server']} · {name}",
                        f"{f[name]['ms']:.2f}",
                        f"{f[name]['ms'] - base:+.2f}",
                        f"{f[name]['dispatched']}/{args.cases}",
                    ]
                )
        print(f"\nintake: {args.cases} demands through do_create_case (baseline: no model)")
        print_table(["database · intake", "ms/case", "vs baseline", "dispatched by the system"], rows)


def main(argv: list[str] | None = None) -> None:
    from bench.common import dispatch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=f"{DATA_DIR}/train_combined.csv")
    parser.add_argument("--raw", default=f"{DATA_DIR}/train_raw.csv")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--ungrouped", action="store_true", help="also plain stratified folds (duplicates cross)"
    )
    parser.add_argument("--no-cv", action="store_true", help="speed and intake only")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both", "none"), default="sqlite")
    parser.add_argument("--cases", type=int, default=300, help="demands per intake variant (default 300)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_ADMIN_URL)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if "sealed" in args.data or "sealed" in args.raw:
        parser.error("evaluation.sealed is not for benchmarks")
    if not args.child:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.settings")
        import django

        django.setup()  # the parent reads settings-free modules only, but they import Django pieces
    dispatch(args, child, parent)


if __name__ == "__main__":
    main()
