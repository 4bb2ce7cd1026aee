"""Reading a whole table in primary-key order with bounded memory (keyset pagination, never OFFSET)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet


def keyset(queryset: QuerySet, batch: int) -> Iterator[list]:
    """The rows of `queryset` in primary-key order, `batch` at a time.

    Each batch is `WHERE pk > <last pk seen> ORDER BY pk LIMIT batch`: every batch costs the same however
    far into the table it is, unlike OFFSET. Rows are model instances, or tuples whose first item is the pk.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    last = None
    while True:
        page = queryset.order_by("pk") if last is None else queryset.filter(pk__gt=last).order_by("pk")
        chunk = list(page[:batch])
        if not chunk:
            return
        yield chunk
        if len(chunk) < batch:
            return
        row = chunk[-1]
        last = row.pk if hasattr(row, "pk") else row[0]
