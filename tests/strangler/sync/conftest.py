"""Two real sync nodes: this test process is ``alpha``; ``beta`` runs under gunicorn.

Run with ``--ds=tests.sync_project.settings`` (``make test-sync``). Alpha's database is the
pytest-django test database; beta's is its own (a SQLite file, or a fresh PostgreSQL or MariaDB
database in the CI passes), migrated by a subprocess and read directly by the tests through
``NodeDB``.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import environ
import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections

from tests.monolith.processes import PYTHON, free_port, running, url_answers

MIGRATE_TIMEOUT_SECONDS = 120
# Rows the sync itself keeps; cleared between transactional tests (see _clean_sync_tables).
SYNC_TABLES = (
    "strangler_sync_change",
    "strangler_sync_row",
    "strangler_sync_cursor",
    "strangler_sync_deadletter",
    "strangler_sync_stream",
    "strangler_sync_applying",
    "strangler_sync_worker",
)
DATA_TABLES = (
    "widgets_part",
    "widgets_widget",
    "widgets_voucher",
    "widgets_label",
    "widgets_shipment",
)


def is_postgres() -> bool:
    return bool(settings.DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgres"))


def is_mysql() -> bool:
    return bool(settings.DATABASES["default"]["ENGINE"] == "django.db.backends.mysql")


def mysql_connect(url: str) -> Any:
    """An autocommit MySQLdb connection to the database of a ``mysql://`` URL."""
    import MySQLdb  # only installed with the mysql extra

    config = environ.Env.db_url_config(url)
    return MySQLdb.connect(
        host=config["HOST"] or "127.0.0.1",
        port=int(config["PORT"] or 3306),
        user=config["USER"],
        password=config["PASSWORD"] or "",
        database=config["NAME"],
        charset="utf8mb4",
        autocommit=True,
    )


@pytest.fixture(autouse=True)
def _clean_sync_tables(request: pytest.FixtureRequest) -> None:
    """Transactional tests start without the change rows the previous flush captured."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    with connection.cursor() as cursor:
        for table in (*DATA_TABLES, *SYNC_TABLES):
            cursor.execute(f"DELETE FROM {table}")


@dataclass
class NodeDB:
    """Direct SQL on a node's database, from outside its processes (``%s`` placeholders)."""

    url: str
    sqlite_path: Path | None = None
    pg_name: str | None = None
    _pg: Any = field(default=None, repr=False)

    def _connect(self) -> Any:
        if self.sqlite_path is not None:
            conn = sqlite3.connect(self.sqlite_path, timeout=20, isolation_level=None)
            conn.execute("PRAGMA foreign_keys = ON")
            return conn
        if self.url.startswith("mysql"):
            if self._pg is None:
                self._pg = mysql_connect(self.url)
            return self._pg
        if self._pg is None or self._pg.closed:
            self._pg = psycopg.connect(self.url, autocommit=True)
        return self._pg

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = self._connect()
        if self.sqlite_path is not None:
            try:
                return conn.execute(sql.replace("%s", "?"), params).fetchall()  # type: ignore[no-any-return]
            finally:
                conn.close()
        with conn.cursor() as cursor:
            cursor.execute(sql, params or None)
            return list(cursor.fetchall()) if cursor.description else []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.rows(sql, params)

    def time(self, value: dt.datetime) -> str:
        """``value`` (aware) as a parameter of this database's datetime columns."""
        if self.url.startswith("mysql"):  # naive UTC, as Django stores it there
            return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
        return value.isoformat(sep=" ")

    def widgets(self) -> dict[int, tuple[Any, ...]]:
        """id -> (sku, name, price as text)."""
        return {
            row[0]: (row[1], row[2], f"{float(row[3]):.2f}")
            for row in self.rows("SELECT id, sku, name, price FROM widgets_widget")
        }

    def clean(self) -> None:
        for table in (*DATA_TABLES, *SYNC_TABLES):
            self.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        if self._pg is not None:
            self._pg.close()


@dataclass(frozen=True)
class Node:
    name: str
    url: str
    db: NodeDB
    env: dict[str, str]
    log: Path


def node_env(name: str, *, database_url: str, peer_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "tests.sync_project.settings",
        "SYNC_NODE": name,
        "DATABASE_URL": database_url,
        "SYNC_PEER_URL": peer_url,
        "SYNC_RUN_ID": settings.RUN_ID,
        "STRANGLER_SYNC_SECRET": settings.STRANGLER_SYNC["secret"],
        **extra,
    }


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "django", *args], env=env, check=False, capture_output=True, text=True,
        timeout=MIGRATE_TIMEOUT_SECONDS,
    )  # fmt: skip


@pytest.fixture(scope="session")
def beta_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeDB]:
    """Beta's own database, migrated by a subprocess as beta."""
    db = settings.DATABASES["default"]
    if is_mysql():
        yield from _mysql_beta_database(db)
        return
    if not is_postgres():
        path = tmp_path_factory.mktemp("beta") / "beta.sqlite3"
        node = NodeDB(url=f"sqlite:///{path}", sqlite_path=path)
        _migrate(node.url)
        yield node
        return
    name = f"sync_beta_{os.getpid()}"
    server = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        node = NodeDB(url=f"{server}/{name}", pg_name=name)
        try:
            _migrate(node.url)
            yield node
        finally:
            node.close()
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _mysql_beta_database(db: dict[str, Any]) -> Iterator[NodeDB]:
    name = f"sync_beta_{os.getpid()}"
    server = f"mysql://{db['USER']}@{db['HOST']}:{db['PORT'] or 3306}"
    admin = mysql_connect(f"{server}/mysql")
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        node = NodeDB(url=f"{server}/{name}")
        try:
            _migrate(node.url)
            yield node
        finally:
            node.close()
            with admin.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        admin.close()


def _migrate(database_url: str) -> None:
    env = node_env("beta", database_url=database_url, peer_url="http://127.0.0.1:9")
    done = manage(env, "migrate", "--noinput")
    assert done.returncode == 0, done.stderr


def gunicorn_args(port: int, *, workers: int = 1) -> list[str]:
    """The test project under gunicorn, configured as the services are."""
    return [PYTHON, "-m", "gunicorn", "tests.sync_project.wsgi", "-c",
            "python:strangler.servicekit.gunicorn_conf", "--workers", str(workers),
            "--bind", f"127.0.0.1:{port}"]  # fmt: skip


@pytest.fixture(scope="session")
def beta_server(beta_database: NodeDB, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """Beta's receiver under gunicorn (its stream back to alpha is disabled here)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("beta-log") / "gunicorn.log"
    env = node_env("beta", database_url=beta_database.url, peer_url="http://127.0.0.1:9")
    with running(
        gunicorn_args(port, workers=2), env=env, log=log, ready=url_answers(f"{url}/readyz")
    ):
        yield Node(name="beta", url=url, db=beta_database, env=env, log=log)


@pytest.fixture
def beta(beta_server: Node) -> Node:
    """Beta, emptied: no widgets, no cursor, no changes."""
    beta_server.db.clean()
    return beta_server


@pytest.fixture
def alpha_to(settings: Any) -> Any:
    """Point alpha's stream at a URL (the sync config is re-read on the settings change)."""

    def point(url: str) -> None:
        config = dict(settings.STRANGLER_SYNC)
        config["peers"] = {"beta": {"url": url}}
        settings.STRANGLER_SYNC = config

    return point


def alpha_database_url() -> str:
    """The URL of this process's (test) database, for processes that act as alpha."""
    db = connections["default"].settings_dict
    if is_mysql():
        return f"mysql://{db['USER']}@{db['HOST']}:{db['PORT'] or 3306}/{db['NAME']}"
    if not is_postgres():
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
