"""The import loop: read → convert → write a batch of cases in one transaction → commit → next batch.

Memory stays constant: the reader streams, at most one batch (``batch_size`` rows, default 1000) is
held, rejected rows go straight to the error file, and nothing is remembered across batches.

**Each case is what do_create_case would write.** A batch is written with a handful of statements
instead of four per case, but the rows are the same: the rules and the deadline come from
``rows.py``; the case numbers come from ``CaseSequence`` (one ``UPDATE … SET last = last + n`` per
mechanism and year reserves the batch's block, inside the batch's transaction, so a rolled-back batch
leaves no gap); the cases are inserted with ``bulk_create``; their ``create`` history rows are made
by the same ``Recorder.add`` as ``insert_case`` (same fields, same hash chain) and inserted with
``bulk_create``; and, as ``Recorder.insert_new`` does, the cases' ``version`` and ``last_hash`` are
then set (one ``executemany``). The channel is ``import`` (unless the mechanism gives the
reporter's role its own channel, as check_create_case does), and the case's created time is the
record's own time, which is also the moment its first deadline counts from.

**Idempotent, and safe to re-run after a crash.** Cases carry the record's id in ``external_id``,
unique per mechanism (constraint ``case_mechanism_external_id``). Each batch asks once which of its
ids exist already; those rows are *skipped* (before they are converted, so a re-run passes over what
is in quickly). Every batch commits on its own, so after a crash
(or Ctrl-C) everything up to the last committed batch is in, nothing of the interrupted batch is,
and running the same command again skips what is in and imports the rest. Should another process
insert one of the batch's ids meanwhile, the unique constraint fails the batch, which is retried once
(then skipping that id).

**Duplicates within the file.** The second row with an id already seen in the same batch is rejected
(naming the first row); one whose id a case created *by this run* already has (an id greater than the
largest case id at the start) is rejected naming that case. A later run cannot tell such a
duplicate from a record imported before, and counts it as skipped.

**Planner statistics.** On PostgreSQL the run analyses the cases and history tables at its start, as
they double and at its end (``taizhang.bulk.PlannerStatistics``): with the statistics of a much smaller
table the skip check scans every case of the mechanism instead of using the unique index.

**Rejected rows** are never written in part: a row with any problem is left out whole and every
problem is one line of the error file (UTF-8 with BOM, so Excel opens it): 行号, 列, 值, 原因.
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from taizhang.bulk import PlannerStatistics, RowInserter
from taizhang.cases.models import Case, CaseParty, CaseSequence, Transition
from taizhang.cases.parties import initial_rows, level_division
from taizhang.cases.recording import Recorder
from taizhang.clock.now import now as clock_now
from taizhang.mechanisms.errors import Problem
from taizhang.org.models import User
from taizhang.spreadsheet import csv_text

from .mapping import Mapping, MappingError
from .readers import ReadError, Source, open_source, printable
from .rows import Divisions, Prepared, RowConverter, RowError

DEFAULT_BATCH = 1000
ERROR_HEADER = ["行号", "列", "值", "原因"]


@dataclass
class Summary:
    rows_read: int = 0
    imported: int = 0
    skipped: int = 0
    rejected: int = 0  # rows, not problems: a row with three problems is one rejected row
    problems: int = 0
    batches: int = 0
    seconds: float = 0.0
    errors_path: Path | None = None
    first_number: str = ""
    last_number: str = ""

    @property
    def rate(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        out = [
            f"读取 {self.rows_read} 行：导入 {self.imported}，跳过（已导入过）{self.skipped}，拒绝 {self.rejected}",
            f"用时 {self.seconds:.1f} 秒，{self.rate:,.0f} 行/秒",
        ]
        if self.imported:
            out.append(f"新案件编号 {self.first_number} … {self.last_number}")
        if self.rejected:
            out.append(f"被拒绝的行及原因（{self.problems} 条）：{self.errors_path}")
        return out


def batch_committed(batch: int, summary: Summary) -> None:
    """Called after each batch commits: a hook for tests (to simulate a crash) and instrumentation."""


def default_errors_path(input_path: Path) -> Path:
    return input_path.with_name(input_path.name + ".errors.csv")


class ErrorFile:
    """The error file, written as rows are rejected (so a crash leaves what was found so far)."""

    def __init__(self, path: Path):
        self.path = path
        self.handle = open(path, "w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(ERROR_HEADER)

    def write(self, errors: list[RowError]) -> None:
        for e in errors:
            cells = [printable(e.column), printable(e.value)[:500], e.reason]
            self.writer.writerow([e.row, *(csv_text(c) for c in cells)])  # opened in Excel/WPS

    def close(self) -> None:
        self.handle.close()


def check_against(mapping: Mapping, header: list[str], divisions: Divisions, input_name: str) -> User:
    """The mapping against the input's header and the database; raises MappingError naming lines."""
    problems: list[Problem] = []
    present = set(header)
    shown = "、".join(h for h in header[:40] if h) + ("…" if len(header) > 40 else "")
    for column, key, line in mapping.columns():
        if column not in present:
            problems.append(
                Problem(
                    mapping.file,
                    line,
                    key,
                    f"输入文件 {input_name} 没有列「{column}」（文件的列：{shown}；列名若是乱码，请检查 format.encoding）",
                )
            )
    for code, line in mapping.division.lines.items():
        if code not in divisions.by_code and len(divisions.by_name.get(code, [])) != 1:
            problems.append(Problem(mapping.file, line, "division", f"没有编码为 {code} 的区划"))
    reporter = User.objects.filter(username=mapping.reporter, is_active=True).first()
    if reporter is None:
        problems.append(
            Problem(mapping.file, mapping.reporter_line, "reporter", f"没有启用的用户 {mapping.reporter}")
        )
    if problems:
        raise MappingError(problems)
    return reporter


def run_import(
    input_path: Path | str,
    mapping: Mapping,
    *,
    errors_path: Path | str | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[Summary, float | None, bool], None] | None = None,
) -> Summary:
    """Import a CSV or XLSX file; returns the summary. Raises ReadError or MappingError before any write."""
    input_path = Path(input_path)
    start = time.perf_counter()
    source: Source = open_source(input_path, mapping.encoding, mapping.delimiter, mapping.sheet)
    try:
        divisions = Divisions()
        reporter = check_against(mapping, source.header, divisions, input_path.name)
        converter = RowConverter(mapping, source.header, reporter, divisions, clock_now())
        writer = BatchWriter(mapping, Case.objects.aggregate(m=Max("pk"))["m"] or 0)
        statistics = PlannerStatistics(Case, Transition)
        statistics.refresh()  # an earlier load may have left them stale: the skip check needs them
        summary = Summary(errors_path=Path(errors_path) if errors_path else default_errors_path(input_path))
        errors = ErrorFile(summary.errors_path)
        try:
            pending: list[tuple[int, list]] = []

            def reject(found: list[RowError]) -> None:
                errors.write(found)
                summary.rejected += 1
                summary.problems += len(found)

            def process() -> None:
                """Convert and write the pending rows, except those imported by an earlier run."""
                if not pending:
                    return
                ids = [converter.external_id(row) for _, row in pending]
                # `exclude(external_id="")` repeats the unique index's condition: without it the
                # planner cannot use that partial index and scans every case of the mechanism.
                before = set(
                    Case.objects.filter(
                        mechanism=mapping.mech.code, external_id__in=set(ids), pk__lte=writer.start_max_pk
                    )
                    .exclude(external_id="")
                    .values_list("external_id", flat=True)
                )
                batch: list[Prepared] = []
                seen: dict[str, int] = {}
                for (number, row), external_id in zip(pending, ids, strict=True):
                    if external_id and external_id in before:
                        summary.skipped += 1
                        continue
                    result = converter.convert(number, row)
                    if isinstance(result, list):
                        reject(result)
                    elif result.external_id in seen:
                        reason = f"外部编号与第 {seen[result.external_id]} 行重复（文件内重复）"
                        reject([RowError(number, mapping.external_id.source, result.external_id, reason)])
                    else:
                        seen[result.external_id] = number
                        batch.append(result)
                pending.clear()
                if batch:
                    imported = summary.imported
                    for found in writer.write(batch, summary):
                        reject(found)
                    statistics.grew(summary.imported - imported)
                    summary.batches += 1
                    summary.seconds = time.perf_counter() - start
                    batch_committed(summary.batches, summary)

            for number, row in source.rows:
                summary.rows_read += 1
                if isinstance(row, ReadError):
                    reject([RowError(number, "", "", str(row))])
                else:
                    pending.append((number, row))
                    if len(pending) >= batch_size:
                        process()
                if progress and summary.rows_read % 1000 == 0:
                    progress(summary, min(source.progress() or 0.0, 0.999), False)
            process()
            if statistics.added:
                statistics.refresh()  # for the queries after the load, not only this one's
            summary.seconds = time.perf_counter() - start
            if progress:
                progress(summary, 1.0, True)
        finally:
            errors.close()
    finally:
        source.close()
    summary.seconds = time.perf_counter() - start
    return summary


def allocate_ids(model, count: int) -> list[int]:
    """`count` new primary keys of `model`'s table, taken inside the caller's write transaction.

    PostgreSQL: from the identity column's sequence. SQLite: after the largest id ever given (the
    table is AUTOINCREMENT, so ids of deleted rows are never reused); the IMMEDIATE transaction holds
    the database's write lock, so nobody else can insert meanwhile.
    """
    table = model._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(table), model._meta.pk.column, count],
            )
            return sorted(r[0] for r in cur.fetchall())
        cur.execute(f"SELECT MAX({model._meta.pk.column}) FROM {connection.ops.quote_name(table)}")
        top = cur.fetchone()[0] or 0
        cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        found = cur.fetchone()
        top = max(top, found[0] if found else 0)
    return list(range(top + 1, top + count + 1))


class BatchWriter:
    def __init__(self, mapping: Mapping, start_max_pk: int):
        self.mapping = mapping
        self.mech = mapping.mech
        self.start_max_pk = start_max_pk
        self.fast = connection.vendor in ("postgresql", "sqlite")
        if self.fast:
            self.cases = RowInserter(Case, with_pk=True)
            self.history = RowInserter(Transition, with_pk=False)
            self.party_rows = RowInserter(CaseParty, with_pk=False)
        table = connection.ops.quote_name(Case._meta.db_table)
        self.update_sql = f"UPDATE {table} SET last_hash = %s, version = %s WHERE id = %s"

    def write(self, batch: list[Prepared], summary: Summary) -> list[list[RowError]]:
        """Write a batch in one transaction; returns the rows rejected as duplicates."""
        try:
            return self._write(batch, summary)
        except IntegrityError:
            # Another process inserted one of these ids meanwhile: retry once, now seeing it.
            for p in batch:
                p.case.pk = None
                p.case._state.adding = True
                p.case.version, p.case.last_hash, p.case.updated_at = 0, "", p.case.created_at
            return self._write(batch, summary)

    def _write(self, batch: list[Prepared], summary: Summary) -> list[list[RowError]]:
        rejected: list[list[RowError]] = []
        skipped = 0
        with transaction.atomic():
            existing = {
                ext: (pk, number)
                for ext, pk, number in Case.objects.filter(
                    mechanism=self.mech.code, external_id__in=[p.external_id for p in batch]
                ).values_list("external_id", "pk", "number")
            }
            fresh: list[Prepared] = []
            for p in batch:
                found = existing.get(p.external_id)
                if found is None:
                    fresh.append(p)
                elif found[0] > self.start_max_pk:
                    column = self.mapping.external_id.source
                    reason = f"外部编号在本文件前面已出现，已导入为 {found[1]}（文件内重复）"
                    rejected.append([RowError(p.row, column, p.external_id, reason)])
                else:
                    skipped += 1
            if fresh:
                self.number(fresh)
                cases = [p.case for p in fresh]
                if self.fast:
                    # Ids first, so that each case is inserted once, already with its history's hash.
                    for case, pk in zip(cases, allocate_ids(Case, len(cases)), strict=True):
                        case.pk = pk
                    history = self.record(fresh)
                    self.cases.insert(cases)
                    self.history.insert(history)
                    self.party_rows.insert(self.parties(cases))
                else:  # as insert_case does: insert, record, then set version and last_hash
                    Case.objects.bulk_create(cases)
                    history = self.record(fresh)
                    Transition.objects.bulk_create(history)
                    CaseParty.objects.bulk_create(self.parties(cases))
                    with connection.cursor() as cur:
                        cur.executemany(self.update_sql, [(c.last_hash, c.version, c.pk) for c in cases])
        summary.imported += len(fresh)
        summary.skipped += skipped
        if fresh:
            summary.first_number = summary.first_number or fresh[0].case.number
            summary.last_number = fresh[-1].case.number
        return rejected

    def parties(self, cases: list[Case]) -> list[CaseParty]:
        """The new cases' party rows, as insert_case writes them (one look-up per division)."""
        level = self.mech.definition.parties.supervisor_level
        bodies = getattr(self, "_bodies", None)
        if bodies is None:
            bodies = self._bodies = {}
        rows: list[CaseParty] = []
        for case in cases:
            if case.division_id not in bodies:
                bodies[case.division_id] = level_division(case.division, level)
            rows += initial_rows(case, case.created_at, bodies[case.division_id])
        return rows

    @staticmethod
    def record(fresh: list[Prepared]) -> list[Transition]:
        """Each case's `create` history row, made by the same Recorder.add as insert_case."""
        history = []
        for p in fresh:
            recorder = Recorder(p.case)
            recorder.add(
                kind="create",
                code="create",
                name="上报",
                actor=p.case.reporter,
                role=p.role,
                from_state="",
                to_state=p.case.state,
                at=p.case.created_at,
                opinion=p.case.description,
                changes=p.changes,
            )
            history.append(recorder.rows[0][0])
        return history

    def number(self, fresh: list[Prepared]) -> None:
        """Reserve one block of numbers per year in the batch, in row order (cf. create.next_number)."""
        by_year: dict[int, list[Case]] = defaultdict(list)
        for p in fresh:
            by_year[timezone.localtime(p.case.created_at).year].append(p.case)
        prefix = self.mech.definition.number_prefix
        for year, cases in by_year.items():
            first = reserve_numbers(self.mech.code, year, len(cases))
            for i, case in enumerate(cases):
                case.number = f"{prefix}-{year}-{first + i:06d}"


def reserve_numbers(mechanism: str, year: int, count: int) -> int:
    """Take `count` numbers from the mechanism's sequence for the year; returns the first."""
    seq = CaseSequence.objects.filter(mechanism=mechanism, year=year)
    if not seq.update(last=F("last") + count):
        try:
            with transaction.atomic():
                CaseSequence.objects.create(mechanism=mechanism, year=year, last=count)
        except IntegrityError:
            seq.update(last=F("last") + count)
    return seq.values_list("last", flat=True).get() - count + 1
