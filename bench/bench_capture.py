"""Benchmark: what capture adds to a write, on MariaDB (or MySQL) against PostgreSQL.

    .venv/bin/python bench/bench_capture.py [--rows 5000] [--per-transaction 100]
                                            [--rounds 3] [--postgres-url URL] [--mysql-url URL]

For each server, a fresh database (its name starts with ``bench_``) is migrated as the sync
test project's alpha node (``tests/sync_project``: the capture triggers sit on
``widgets_widget``, a product-like row of id, sku, name, price, updated_at). Then, through the
driver directly (no ORM, so the figure is the database's):

1. ``--rows`` inserts, as many updates of those rows, and as many deletes, one row a statement,
   ``--per-transaction`` statements a transaction, with the capture triggers installed;
2. the same with the triggers dropped (the table as it was before the sync);

alternating the two ``--rounds`` times and keeping each one's fastest round. It prints the time
per write with and without capture, what capture adds (microseconds a write), and the ratio of
MariaDB's added cost to PostgreSQL's. It asserts nothing. Exit status 2 when a server or the
MySQL driver (``pip install -e '.[mysql]'``) is missing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import environ
import psycopg

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
TABLE = "widgets_widget"
OPERATIONS = ("insert", "update", "delete")


class BenchError(Exception):
    pass


@dataclass(frozen=True)
class Server:
    """One database server: how to reach a database on it, and its SQL dialect's few words."""

    name: str
    url: str  # the bench database's URL
    now: str  # the SQL for "now, as Django stores datetimes here"

    @property
    def mysql(self) -> bool:
        return self.url.startswith("mysql")

    def connect(self, database: str | None = None) -> Any:
        config = environ.Env.db_url_config(self.url)
        name = database if database is not None else config["NAME"]
        if self.mysql:
            import MySQLdb  # the mysql extra

            return MySQLdb.connect(
                host=config["HOST"] or "127.0.0.1", port=int(config["PORT"] or 3306),
                user=config["USER"], password=config["PASSWORD"] or "", database=name,
                charset="utf8mb4", autocommit=False,
            )  # fmt: skip
        return psycopg.connect(self.url.rsplit("/", 1)[0] + f"/{name}")


@dataclass
class Figures:
    with_capture: dict[str, float]  # seconds a write, fastest round
    without: dict[str, float]

    def added_us(self, operation: str) -> float:
        return (self.with_capture[operation] - self.without[operation]) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--per-transaction", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--postgres-url", default="postgres://postgres@127.0.0.1:5432/bench_capture"
    )
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306/bench_capture")
    args = parser.parse_args()
    servers = [
        Server("PostgreSQL", args.postgres_url, "now()"),
        Server("MariaDB", args.mysql_url, "UTC_TIMESTAMP(6)"),
    ]
    results: dict[str, Figures] = {}
    try:
        for server in servers:
            if not environ.Env.db_url_config(server.url)["NAME"].startswith("bench_"):
                raise BenchError(f"{server.url}: the database's name must start with bench_")
            with _fresh_database(server):
                print(f"{server.name}: {_version(server)}", flush=True)
                results[server.name] = _measure(server, args)
    except (BenchError, ImportError, psycopg.OperationalError) as exc:
        print(f"bench_capture: {exc}", file=sys.stderr)
        return 2
    _report(results, args)
    return 0


@contextmanager
def _fresh_database(server: Server) -> Iterator[None]:
    name = environ.Env.db_url_config(server.url)["NAME"]
    admin = server.connect("mysql" if server.mysql else "postgres")
    if server.mysql:
        admin.autocommit(True)
    else:
        admin.autocommit = True
    quoted = f"`{name}`" if server.mysql else f'"{name}"'
    try:
        _run(admin, f"DROP DATABASE IF EXISTS {quoted}")
        _run(
            admin, f"CREATE DATABASE {quoted}" + (" CHARACTER SET utf8mb4" if server.mysql else "")
        )
        _migrate(server.url)
        yield
    finally:
        _run(admin, f"DROP DATABASE IF EXISTS {quoted}")
        admin.close()


def _run(conn: Any, sql: str, params: Any = None) -> list[Any]:
    cursor = conn.cursor()
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description else []
    finally:
        cursor.close()


def _migrate(url: str) -> None:
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "tests.sync_project.settings", "SYNC_NODE": "alpha",
        "DATABASE_URL": url, "STRANGLER_DEMO": "1",
    }  # fmt: skip
    done = subprocess.run(
        [PYTHON, "-m", "django", "migrate", "--noinput"], env=env, cwd=REPO,
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise BenchError(f"migrate on {url} failed:\n{done.stderr[-3000:]}")


def _version(server: Server) -> str:
    conn = server.connect()
    try:
        return str(_run(conn, "SELECT version()")[0][0]).split(",")[0]
    finally:
        conn.close()


def _measure(server: Server, args: argparse.Namespace) -> Figures:
    best_with = dict.fromkeys(OPERATIONS, float("inf"))
    best_without = dict.fromkeys(OPERATIONS, float("inf"))
    conn = server.connect()
    try:
        for _round in range(args.rounds):
            for captured, best in ((True, best_with), (False, best_without)):
                _capture_switch(server, captured)
                for operation, seconds in _one_round(conn, server, args).items():
                    best[operation] = min(best[operation], seconds / args.rows)
    finally:
        conn.close()
    return Figures(with_capture=best_with, without=best_without)


def _capture_switch(server: Server, on: bool) -> None:
    """Install or drop the triggers, in a process of the test project (its own SQL)."""
    action = "capture_install(connection, table=t, pk='id')" if on else (
        "[c.execute(s) for s in capture_drop_statements(connection.vendor, table=t)]"
    )  # fmt: skip
    script = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "from strangler.sync.triggers import capture_drop_statements, capture_install\n"
        f"t = {TABLE!r}\n"
        "with connection.cursor() as c:\n"
        f"    {action}\n"
    )
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "tests.sync_project.settings", "SYNC_NODE": "alpha",
        "DATABASE_URL": server.url, "STRANGLER_DEMO": "1",
    }  # fmt: skip
    subprocess.run([PYTHON, "-c", script], env=env, cwd=REPO, check=True, timeout=120)


def _one_round(conn: Any, server: Server, args: argparse.Namespace) -> dict[str, float]:
    """Seconds for ``--rows`` inserts, updates and deletes, then the table emptied again."""
    ids = range(1, args.rows + 1)
    statements: dict[str, tuple[str, Callable[[int], tuple[Any, ...]]]] = {
        "insert": (
            f"INSERT INTO {TABLE} (id, sku, name, price, updated_at) "
            f"VALUES (%s, %s, 'gear', 9.99, {server.now})",
            lambda pk: (pk, f"SKU-{pk:08d}"),
        ),
        "update": (
            f"UPDATE {TABLE} SET name = 'changed', updated_at = {server.now} WHERE id = %s",
            lambda pk: (pk,),
        ),
        "delete": (f"DELETE FROM {TABLE} WHERE id = %s", lambda pk: (pk,)),
    }
    seconds: dict[str, float] = {}
    for operation, (sql, params) in statements.items():
        cursor = conn.cursor()
        started = time.perf_counter()
        for index, pk in enumerate(ids, start=1):
            cursor.execute(sql, params(pk))
            if index % args.per_transaction == 0:
                conn.commit()
        conn.commit()
        seconds[operation] = time.perf_counter() - started
        cursor.close()
    for table in ("strangler_sync_change", "strangler_sync_row"):
        _run(conn, f"DELETE FROM {table}")
    conn.commit()
    return seconds


def _report(results: dict[str, Figures], args: argparse.Namespace) -> None:
    print(
        f"\n{args.rows} writes of each kind, {args.per_transaction} a transaction, "
        f"fastest of {args.rounds} rounds; microseconds a write"
    )
    print(f"{'':12} {'':8} {'without':>9} {'with':>9} {'added':>9} {'ratio':>7}")
    for name, figures in results.items():
        for operation in OPERATIONS:
            without = figures.without[operation] * 1e6
            with_capture = figures.with_capture[operation] * 1e6
            print(
                f"{name:12} {operation:8} {without:9.1f} {with_capture:9.1f} "
                f"{figures.added_us(operation):9.1f} {with_capture / without:6.2f}x"
            )
    maria, postgres = results.get("MariaDB"), results.get("PostgreSQL")
    if maria is None or postgres is None:
        return
    print("\ncapture cost per write, MariaDB / PostgreSQL:")
    for operation in OPERATIONS:
        ratio = maria.added_us(operation) / postgres.added_us(operation)
        print(
            f"  {operation:8} {maria.added_us(operation):7.1f} us / "
            f"{postgres.added_us(operation):7.1f} us = {ratio:.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())
