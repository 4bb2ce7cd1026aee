"""`taizhang serve`: the production server — static files collected, migrations and deploy checks, the
database's connection budget, then gunicorn (taizhang/gunicorn_conf.py) in place of this process."""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

# Connections kept free for the scheduler, migrations and an operator's shell.
RESERVED = 5


def connection_budget(workers: int, pool_max: int | None) -> str | None:
    """Why `workers` × `pool_max` connections (+ RESERVED) would not fit PostgreSQL's max_connections, or
    None (also without a pool, or on SQLite)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql" or not pool_max:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int"
        )
        available = cursor.fetchone()[0]
    needed = workers * pool_max + RESERVED
    if needed <= available:
        return None
    return (
        f"{workers} workers (TAIZHANG_WEB_WORKERS) × {pool_max} connections (TAIZHANG_DB_POOL_MAX) "
        f"+ {RESERVED} for the scheduler and maintenance = {needed}, but PostgreSQL allows {available}: "
        "lower one of them, or raise max_connections in postgresql.conf"
    )


class Command(BaseCommand):
    help = "生产环境运行：收集静态文件、检查迁移与部署配置，然后以 gunicorn 提供服务"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--bind", help="listen address (default TAIZHANG_WEB_BIND)")
        parser.add_argument(
            "--migrate", action="store_true", help="apply migrations instead of only checking"
        )
        parser.add_argument(
            "--no-collectstatic", action="store_true", help="static files are collected already"
        )

    def handle(self, *args, bind: str | None, migrate: bool, no_collectstatic: bool, **options) -> None:
        if not no_collectstatic:
            call_command("collectstatic", interactive=False, verbosity=0)
        if migrate:
            call_command("migrate", interactive=False, verbosity=1)
        else:
            try:
                call_command("migrate", check_unapplied=True, verbosity=0)
            except SystemExit:
                raise CommandError(
                    "migrations are not applied: run `taizhang migrate` (or serve --migrate)"
                ) from None
        call_command("check", deploy=settings.TAIZHANG_ENV == "production")
        pool = settings.DATABASES[DEFAULT_DB_ALIAS].get("OPTIONS", {}).get("pool") or {}
        problem = connection_budget(settings.TAIZHANG_WEB_WORKERS, pool.get("max_size"))
        if problem:
            raise CommandError(problem)
        connections.close_all()
        if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
            connections[DEFAULT_DB_ALIAS].close_pool()  # the workers open their own
        argv = [sys.executable, "-m", "gunicorn", "-c", "python:taizhang.gunicorn_conf"]
        if bind:
            argv += ["--bind", bind]
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, argv)  # gunicorn takes this process: signals reach it directly
