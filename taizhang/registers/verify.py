"""`taizhang audit verify` for registers: every item's history chain recomputes (the cases' chain
function), and the item row is what its history says (a row changed behind the actions is found)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator

from taizhang.cases.keyset import keyset
from taizhang.cases.models import AuditCheckpoint

from .models import ItemEvent, ItemParty, RegisterItem
from .permissions import party_rows
from .recording import event_digest, snapshot


def chain_problem(item: RegisterItem, rows: list[ItemEvent]) -> str | None:
    """The first broken link of an item's chain, or None."""
    prev = ""
    for expected, row in enumerate(rows, start=1):
        if row.seq != expected:
            return f"{item.number} 第 {row.seq} 条：序号不连续（应为 {expected}）"
        if row.prev_hash != prev:
            return f"{item.number} 第 {row.seq} 条：前一条哈希不符"
        if event_digest(row) != row.hash:
            return f"{item.number} 第 {row.seq} 条：内容与哈希不符（记录被改动）"
        prev = row.hash
    if item.last_hash != prev:
        return f"{item.number}：条目记录的最新哈希与链尾不符"
    if item.version != len(rows):
        return f"{item.number}：条目版本 {item.version} 与记录条数 {len(rows)} 不符"
    return None


def replayed(rows: list[ItemEvent]) -> dict:
    """The item's values as its history says: each row's new values applied in order."""
    values: dict = {}
    for row in rows:
        for key, change in (row.changes or {}).items():
            if isinstance(change, list) and len(change) == 2:
                values[key] = change[1]
    return {k: v for k, v in values.items() if v not in (None, "", [])}


def item_problems(item: RegisterItem, rows: list[ItemEvent], parties: set[tuple]) -> Iterator[str]:
    broken = chain_problem(item, rows)
    if broken:
        yield f"台账哈希链断裂：{broken}"
    told, stored = replayed(rows), snapshot(item)
    for key in sorted(set(told) | set(stored)):
        if told.get(key) != stored.get(key):
            yield f"台账条目与记录不符：{item.number} 的 {key} 为 {stored.get(key)!r}，记录为 {told.get(key)!r}"
    expected = {(p.kind, p.path) for p in party_rows(item)}
    if parties != expected:
        yield f"台账条目归属与条目不符：{item.number}（归属行 {sorted(parties)}，应为 {sorted(expected)}）"


def verify_registers(
    problem: Callable[[str], None], batch: int = 500, checkpoint: AuditCheckpoint | None = None
) -> tuple[int, int]:
    """Report every problem of every item through `problem`; (items, history rows) checked. With the
    latest valid signed `checkpoint` (of format 2: one of format 1 has no item heads), every item's chain
    must still hold the head it signed."""
    from .checkpoint import ItemHeads, covers_items

    heads = ItemHeads(checkpoint, problem) if covers_items(checkpoint) else None
    items = events = 0
    for chunk in keyset(RegisterItem.objects.select_related("division", "unit"), batch):
        ids = [i.pk for i in chunk]
        history: dict[int, list[ItemEvent]] = defaultdict(list)
        for row in ItemEvent.objects.filter(item_id__in=ids).order_by("item_id", "seq"):
            history[row.item_id].append(row)
        parties: dict[int, set[tuple]] = defaultdict(set)
        for item_id, kind, path in ItemParty.objects.filter(item_id__in=ids).values_list(
            "item_id", "kind", "path"
        ):
            parties[item_id].add((kind, path))
        for item in chunk:
            for text in item_problems(item, history[item.pk], parties[item.pk]):
                problem(text)
            if heads:
                seqs = {row.seq: row.hash for row in history[item.pk]}
                heads.check(item.pk, item.number, len(history[item.pk]), seqs)
            items += 1
            events += len(history[item.pk])
    if heads:
        heads.finish()
    return items, events
