"""The scale part of bench/hotspots.py: generated demands, grouped at 1,000,000 and added one by one."""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import timedelta
from typing import Any

from bench.similar_cases import NOW, read_messages

BATCH = 10_000  # demands inserted and indexed per transaction


def analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")


def templates(messages) -> list[tuple[str, str]]:
    """(title, description) of each message with the places it names replaced by "{estate}" (and
    "{estate}" in front of a title that names none), so that a repeat at another estate is another place."""
    from taizhang.insight.hotspots import compound_places
    from taizhang.insight.text import places

    out = []
    for m in messages:
        title, text = m["留言主题"].strip(), " ".join(m["留言详情"].split())[:400]
        found = sorted(places(title, text) | compound_places(title, text), key=len, reverse=True)
        for place in found:
            title, text = title.replace(place, "{estate}"), text.replace(place, "{estate}")
        if "{estate}" not in title:
            title, text = "{estate}" + title, "{estate}" + text
        out.append(
            (
                title.replace("{", "{{").replace("}", "}}").replace("{{estate}}", "{estate}"),
                text.replace("{", "{{").replace("}", "}}").replace("{{estate}}", "{estate}"),
            )
        )
    return out


def generated(messages, n: int, rng: random.Random):
    """`n` demands over the 365 days before NOW, in time order (see the module docstring)."""
    estates = [
        a + b for a in "金银锦华翠绿丽景泰和安康富盛" for b in ("园小区", "苑", "家园", "新城", "花园")
    ]
    forms = templates(messages)
    recent: list[tuple[int, str]] = []
    start = NOW - timedelta(days=365)
    step = 365 * 86400 / n
    for i in range(n):
        if recent and rng.random() < 0.3:
            k, estate = rng.choice(recent[-1000:])
        else:
            k, estate = (
                rng.randrange(len(forms)),
                rng.choice(estates[:20]) + "东西南北中"[rng.randrange(5)] + rng.choice(estates),
            )
            recent.append((k, estate))
        title, text = forms[k]
        yield {
            "title": title.format(estate=estate)[:200],
            "description": text.format(estate=estate)[:400],
            "at": start + timedelta(seconds=i * step + rng.random() * step),
            "phone": f"139{rng.randrange(300_000):08d}",
        }


def scale(args: argparse.Namespace, org: Any, say) -> dict[str, Any]:
    from django.db import connection
    from django.db.models.signals import post_save
    from django.test.utils import CaptureQueriesContext

    from bench.common import db_rows_of, insert_baselines
    from taizhang.cases.create import CaseInput, do_create_case
    from taizhang.cases.models import Case
    from taizhang.clock.now import pinned
    from taizhang.insight import hooks
    from taizhang.insight.hotspot_index import add_case, rebuild, scope_weights
    from taizhang.insight.hotspot_queries import top_hotspots
    from taizhang.insight.hotspots import demand_of
    from taizhang.insight.models import CaseTokens, HotSpot, HotSpotMember
    from taizhang.insight.similar import index_cases

    rng = random.Random(7)
    messages = read_messages(args.data)
    region = org.grid.district().code
    insert_s = index_s = 0.0
    batch: list[Case] = []

    def flush() -> None:
        nonlocal insert_s, index_s
        t = time.perf_counter()
        made = Case.objects.bulk_create(batch, batch_size=2000)
        insert_s += time.perf_counter() - t
        t = time.perf_counter()
        index_cases(made)
        index_s += time.perf_counter() - t
        batch.clear()

    for i, d in enumerate(generated(messages, args.demands, rng)):
        batch.append(
            Case(
                mechanism="demand",
                number=f"GEN-{i:08d}",
                region=region,
                title=d["title"],
                description=d["description"],
                category="complaint",
                grade="general",
                channel="hotline",
                state="closed",
                state_kind="closed",
                division=org.grid,
                data={"caller_phone": d["phone"]},
                state_entered_at=d["at"],
                created_at=d["at"],
                updated_at=d["at"],
            )
        )
        if len(batch) >= BATCH:
            flush()
            if (i + 1) % 100_000 == 0:
                say(f"scale: {i + 1:,} demands inserted ({insert_s:.0f} s) and indexed ({index_s:.0f} s)")
    if batch:
        flush()
    analyze()
    scope = f"{region}:demand"
    start = time.perf_counter()
    done = rebuild([region])[scope]
    group_s = time.perf_counter() - start
    say(f"scale: {done['demands']:,} demands grouped in {group_s:.0f} s into {done['groups']:,} hot spots")
    start = time.perf_counter()
    weights = scope_weights(scope)
    read = 0
    for case_id, at, words, places, title, address, division_id in (
        CaseTokens.objects.filter(scope=scope)
        .order_by("created_at", "case_id")
        .values_list(
            "case_id", "created_at", "terms", "places", "case__title", "case__address", "case__division_id"
        )
        .iterator(chunk_size=5000)
    ):
        demand_of(case_id, at, title, words, places, "", address=address, division_id=division_id)
        read += 1
    read_s = time.perf_counter() - start
    members = HotSpotMember.objects.order_by("pk")
    sample = db_rows_of(HotSpotMember, members, [f.column for f in HotSpotMember._meta.concrete_fields][1:])
    baselines = insert_baselines(HotSpotMember, sample[:200_000])
    out = {
        "demands": done["demands"],
        "groups": done["groups"],
        "members": members.count(),
        "insert_s": insert_s,
        "index_s": index_s,
        "group_s": group_s,
        "read_s": read_s,
        "read": read,
        "terms": len(weights.df),
        "baselines": [{"name": b.name, "rows": b.rows, "rate": b.rate} for b in baselines],
    }
    post_save.disconnect(hooks.group_new_case, sender=Case, dispatch_uid="insight.group_new_case")
    create_t, add_t, queries, joined = [], [], [], 0
    for i in range(args.adds):
        m = messages[rng.randrange(len(messages))]
        with pinned(NOW + timedelta(minutes=i)):
            t = time.perf_counter()
            case, _ = do_create_case(
                org.dispatcher,
                CaseInput(
                    mechanism="demand",
                    title=m["留言主题"].strip()[:200],
                    description=" ".join(m["留言详情"].split())[:400],
                    division=org.grid.code,
                    category="complaint",
                    channel="hotline",
                    fields={"caller_phone": f"138{i:08d}"},
                ),
            )
            create_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            connection.queries_log.clear()  # a full log (9,000 queries) would count none
            with CaptureQueriesContext(connection) as ctx, transaction_atomic():
                joined += add_case(case) is not None
            add_t.append(time.perf_counter() - t)
            queries.append(len(ctx.captured_queries))
    post_save.connect(hooks.group_new_case, sender=Case, dispatch_uid="insight.group_new_case")
    out["adds"] = {
        "n": args.adds,
        "joined": joined,
        "create_p50_ms": statistics.median(create_t) * 1000,
        "p50_ms": statistics.median(add_t) * 1000,
        "p95_ms": sorted(add_t)[int(len(add_t) * 0.95)] * 1000,
        "max_ms": max(add_t) * 1000,
        "queries": max(queries),
    }
    for who in ("leader", "dispatcher"):
        user = getattr(org, who)
        times = []
        for _ in range(10):
            user.__dict__.pop("_taizhang_grants", None)
            t = time.perf_counter()
            found = top_hotspots(user, now=NOW, days=90)
            times.append(time.perf_counter() - t)
        out[f"dashboard_{who}_ms"] = statistics.median(times) * 1000
        out[f"dashboard_{who}_found"] = len(found)
    out["active_spots"] = HotSpot.objects.filter(last_at__gte=NOW - timedelta(days=90)).count()
    return out


def transaction_atomic():
    from django.db import transaction

    return transaction.atomic()
