"""Shared helpers for the benchmarks under bench/: throw-away databases, Django set-up, timing, baselines.

A benchmark script runs in two roles. The *parent* parses the command line, creates one throw-away
database per engine and starts the same script again as a *child* with ``DATABASE_URL`` pointing at
it (Django reads its settings once per process, so each database needs its own process). The child
sets Django up, migrates, measures, and writes its figures as JSON to a file the parent reads back;
the parent prints the comparison and drops the database, also when the child fails.

Every figure is printed next to a baseline measured in the same run on the same database (plain
INSERTs of rows of the same width, and COPY on PostgreSQL), so a reader can tell the engine's cost
from the machine's.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ENGINES = ("sqlite", "postgres")
PER_ROW_TXN = "INSERT per-row txn"  # the baseline an engine's one-transaction-per-action rate compares with


# --- timing and printing ---------------------------------------------------------------------------


class Stopwatch:
    """Accumulates wall-clock time under names: ``with watch("sign"): ...`` adds to ``watch.totals``."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.totals[name] = self.totals.get(name, 0.0) + time.perf_counter() - start
            self.counts[name] = self.counts.get(name, 0) + 1


def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def per_second(count: float, seconds: float) -> float:
    """``count`` per second, infinite for a zero duration."""
    return count / seconds if seconds > 0 else float("inf")


def fmt_rate(value: float) -> str:
    """A rate with about three significant figures and thousands separators: 243.9, 12,345."""
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.1f}"
    return f"{value:.2f}"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, out: TextIO | None = None) -> None:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    out = out or sys.stdout
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        parts = [_pad(c, widths[i], left=(i == 0)) for i, c in enumerate(row)]
        return "  ".join(parts).rstrip()

    print(line(cells[0]), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in cells[1:]:
        print(line(row), file=out)


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int, *, left: bool) -> str:
    gap = " " * (width - _width(text))
    return text + gap if left else gap + text


# --- throw-away databases and child processes --------------------------------------------------------


def with_database(url: str, name: str) -> str:
    """``url`` with its database name replaced: .../postgres -> .../taizhang_bench_123."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@contextmanager
def throwaway_database(engine: str, postgres_admin_url: str = DEFAULT_POSTGRES_ADMIN_URL) -> Iterator[str]:
    """A fresh empty database for one benchmark run; yields its DATABASE_URL and removes it afterwards.

    SQLite: a file in a temporary directory. PostgreSQL: ``CREATE DATABASE taizhang_bench_<pid>``
    through the admin URL, dropped (``WITH (FORCE)``, so a crashed child's connection cannot keep it
    alive) when the block ends, whether it ends normally or by an exception or Ctrl-C.
    """
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="taizhang-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        return
    if engine != "postgres":
        raise ValueError(f"unknown engine {engine!r}")
    import psycopg

    name = f"taizhang_bench_{os.getpid()}"
    try:
        with psycopg.connect(postgres_admin_url, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        raise RuntimeError(
            f"cannot create database {name} through {redact(postgres_admin_url)}: {exc}"
        ) from None
    try:
        yield with_database(postgres_admin_url, name)
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_child(script: Path, args: Sequence[str], database_url: str) -> dict[str, Any]:
    """Run ``script --child ARGS`` against ``database_url`` and return the JSON figures it wrote.

    The child gets its own media directory and a production-like configuration (DEBUG off, so Django
    does not keep every query in memory). Its output goes straight to the terminal.
    """
    with tempfile.TemporaryDirectory(prefix="taizhang-bench-") as tmp:
        result = Path(tmp) / "result.json"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "taizhang.settings",
            "TAIZHANG_MEDIA_ROOT": str(Path(tmp) / "media"),
            "TAIZHANG_MEDIA_STORAGE": "file",
            "TAIZHANG_DEBUG": "0",
            "TAIZHANG_SECRET_KEY": "bench-only-not-secret",
            "TAIZHANG_LOG_LEVEL": "WARNING",
            # One handler uploads a photo per case within seconds: far past a person's daily quota.
            "TAIZHANG_UPLOAD_QUOTA_COUNT": "1000000",
        }
        cmd = [sys.executable, str(script), "--child", "--result-file", str(result), *args]
        proc = subprocess.run(cmd, env=env, cwd=REPO)
        if proc.returncode != 0:
            raise RuntimeError(
                f"benchmark child for {redact(database_url)} failed with exit code {proc.returncode}"
            )
        return json.loads(result.read_text())


def dispatch(args: Any, child: Callable[[Any], None], parent: Callable[[Any], None]) -> None:
    """Run the child part (inside a throw-away database) or the parent that drives the children."""
    if args.child:
        child(args)
        return
    try:
        parent(args)
    except KeyboardInterrupt:
        sys.exit("interrupted; throw-away databases removed")
    except RuntimeError as exc:
        sys.exit(f"error: {exc}")


def data_parser(doc: str | None, data: str, labels: Path) -> argparse.ArgumentParser:
    """The options every benchmark on a teddy2020c file shares: --db, --data, --labels, --postgres-url."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--db", choices=(*ENGINES, "both"), default="sqlite")
    parser.add_argument("--data", default=data, help=f"{Path(data).name} of teddy2020c")
    parser.add_argument("--labels", default=str(labels))
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_ADMIN_URL)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    return parser


def run_per_engine(
    args: argparse.Namespace, script: str, passed: list[str], report: Callable[[dict[str, Any]], None]
) -> None:
    """Run `script` as a child in a throw-away database of each engine asked for and report its figures."""
    if not Path(args.data).is_file():
        raise SystemExit(f"no such file: {args.data} (give {Path(args.data).name} with --data)")
    engines = ENGINES if args.db == "both" else (args.db,)
    for engine in engines:
        with throwaway_database(engine, args.postgres_url) as url:
            report(
                run_child(
                    Path(script).resolve(), ["--data", args.data, "--labels", args.labels, *passed], url
                )
            )


def start_child() -> tuple[str, Callable[[str], None], float]:
    """Inside a child: Django set up and migrated; returns the engine, a progress printer and migrate seconds."""
    migrate_s = setup_django()
    engine = {"sqlite": "sqlite", "postgresql": "postgres"}[vendor()]

    def say(msg: str) -> None:
        print(f"  [{engine}] {msg}", file=sys.stderr, flush=True)

    return engine, say, migrate_s


def write_result(path: str | Path, data: dict[str, Any]) -> None:
    """Write a child's figures for the parent (see :func:`run_child`)."""
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=2))


# --- Django inside the child ------------------------------------------------------------------------


def setup_django() -> float:
    """Set Django up from the environment and migrate the (empty) database; returns migrate seconds."""
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.settings")
    import django

    django.setup()
    from django.core.management import call_command

    return timed(lambda: call_command("migrate", verbosity=0, interactive=False))


def vendor() -> str:
    """``sqlite`` or ``postgresql``: the Django backend of the default database."""
    from django.db import connection

    return connection.vendor


def server_version() -> str:
    """``SQLite 3.40.1`` or ``PostgreSQL 15.20``: what the figures were measured on."""
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("select sqlite_version()")
            return f"SQLite {cur.fetchone()[0]}"
        cur.execute("show server_version")
        return f"PostgreSQL {cur.fetchone()[0].split()[0]}"


# --- a small org ------------------------------------------------------------------------------------


@dataclass
class Org:
    """A city > district > street > community > grid tree, two bureaus, and one person per role used."""

    grid: Any
    safety_bureau: Any
    grid_worker: Any
    dispatcher: Any
    handler: Any
    verifier: Any
    leader: Any
    enforcement_bureau: Any


def build_org() -> Org:
    """Create the org and personas. Passwords are unusable, so no time goes into password hashing."""
    from taizhang.org.models import Division, Membership, Unit, User

    def div(code: str, name: str, level: str, parent: Any = None) -> Any:
        return Division.objects.create(code=code, name=name, level=level, parent=parent)

    def unit(code: str, name: str, kind: str, division: Any, enforcement: bool = False) -> Any:
        return Unit.objects.create(
            code=code, name=name, kind=kind, division=division, enforcement=enforcement
        )

    def person(username: str, name: str, role: str, division: Any = None, unit: Any = None) -> Any:
        user = User(username=username, display_name=name)
        user.set_unusable_password()
        user.save()
        Membership.objects.create(user=user, role=role, division=division, unit=unit)
        return user

    city = div("CZS", "长治市", "city")
    district = div("LZQ", "潞州区", "district", city)
    street = div("WMJD", "五马街道", "street", district)
    community = div("WMJD-HX", "和心社区", "community", street)
    grid = div("WMJD-HX-01", "和心社区第一网格", "grid", community)
    safety = unit("LZQ-YJJ", "潞州区应急管理局", "department", district)
    enforcement = unit("LZQ-ZFJ", "潞州区综合行政执法局", "department", district, enforcement=True)
    return Org(
        grid=grid,
        enforcement_bureau=enforcement,
        safety_bureau=safety,
        grid_worker=person("wangge", "韩晓晴", "grid_worker", division=grid),
        dispatcher=person("paiqian", "贾文博", "dispatcher", division=street),
        handler=person("chuzhi", "牛志远", "handler", unit=safety),
        verifier=person("hecha", "田慧敏", "verifier", division=street),
        leader=person("lingdao", "常建国", "leader", division=district),
    )


def make_jpeg(seed: int, size: int = 32) -> bytes:
    """A small JPEG whose colour (and so hash) depends on ``seed``."""
    from PIL import Image

    buf = io.BytesIO()
    colour = (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256)
    Image.new("RGB", (size, size), colour).save(buf, "JPEG", quality=85)
    return buf.getvalue()


# --- baselines: plain INSERT and COPY of rows as wide as a model's table ------------------------------


def scratch_table_like(model: Any, name: str | None = None) -> tuple[str, list[str]]:
    """Create a constraint-free copy of ``model``'s table; returns (table, columns).

    Same column names and types as the model's table, minus the primary key; no indexes, foreign
    keys, checks or triggers. Any earlier table of that name is dropped first.
    """
    from django.db import connection

    table = name or f"bench_scratch_{model._meta.db_table}"
    qn = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    ddl = ", ".join(
        f"{qn(f.column)} {f.db_type(connection)}" + ("" if f.null else " NOT NULL") for f in fields
    )
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {qn(table)}")
        cur.execute(f"CREATE TABLE {qn(table)} ({ddl})")
    return table, columns


def db_rows_of(model: Any, queryset: Any, columns: list[str]) -> list[tuple[Any, ...]]:
    """The rows of ``queryset`` as database parameters for ``columns`` (adapted once, outside any timing)."""
    from django.db import connection

    by_column = {f.column: f for f in model._meta.concrete_fields}
    attnames = [by_column[c].attname for c in columns]
    prep = [by_column[c].get_db_prep_value for c in columns]
    return [
        tuple(p(v, connection, prepared=False) for p, v in zip(prep, values, strict=True))
        for values in queryset.values_list(*attnames)
    ]


@dataclass
class Baseline:
    """One baseline method's result: ``rows`` inserted in ``seconds``."""

    name: str
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        return per_second(self.rows, self.seconds)


def insert_baselines(model: Any, rows: list[tuple[Any, ...]]) -> list[Baseline]:
    """Insert ``rows`` into a scratch copy of ``model``'s table three ways and time each.

    * ``INSERT per-row txn``: one INSERT per row in autocommit mode, so every row is its own
      transaction and commit, as every action of the engine is.
    * ``executemany 1 txn``: all rows with one ``executemany`` inside one transaction.
    * ``COPY 1 txn`` (PostgreSQL only): all rows through psycopg's ``cursor.copy``.

    The scratch table is emptied between methods and dropped at the end.
    """
    from django.db import connection, transaction

    table, columns = scratch_table_like(model)
    qn = connection.ops.quote_name
    col_sql = ", ".join(qn(c) for c in columns)
    insert = f"INSERT INTO {qn(table)} ({col_sql}) VALUES ({', '.join(['%s'] * len(columns))})"
    results: list[Baseline] = []

    def empty() -> None:
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {qn(table)}")

    def per_row() -> None:
        with connection.cursor() as cur:
            for row in rows:
                cur.execute(insert, row)

    def many() -> None:
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(insert, rows)

    def copy() -> None:
        with transaction.atomic(), connection.cursor() as cur:
            with cur.cursor.copy(f"COPY {qn(table)} ({col_sql}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)

    methods: list[tuple[str, Callable[[], None]]] = [
        ("INSERT per-row txn", per_row),
        ("executemany 1 txn", many),
    ]
    if connection.vendor == "postgresql":
        methods.append(("COPY 1 txn", copy))
    assert connection.get_autocommit(), "baselines must start outside a transaction"
    for name, fn in methods:
        empty()
        seconds = timed(fn)
        with connection.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {qn(table)}")
            stored = cur.fetchone()[0]
        if stored != len(rows):
            raise RuntimeError(f"baseline {name}: {stored} rows stored, expected {len(rows)}")
        results.append(Baseline(name, len(rows), seconds))
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE {qn(table)}")
    return results
