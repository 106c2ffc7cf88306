"""Comparison results in PostgreSQL: the fleet's shared store (``STRANGLER_STORE_URL``).

The tables are SQLite's (``results_schema``) in PostgreSQL's types, prefixed
``strangler_compare_`` beside the store's other ``strangler_*`` tables. Every counter is
added in the database (``count = t.count + excluded.count``), and a writer's first upsert
locks its route's row until it commits, so proxy workers on many hosts add to the same
rows at once without losing a count (``results_rows``). A flush's statements go in one
pipeline (it waits only for each route's count of held keys and clusters) and commit
asynchronously: ~4 ms for five routes (bench/bench_results.py). Reads take one REPEATABLE
READ snapshot, so a report never mixes two flushes.

The schema version is the one row of ``strangler_compare_schema``; the first process to
open an empty database creates the tables under an advisory lock (two replicas starting
at once: the second waits, then finds them). Results of another version are refused whole.
A connection lost between flushes is opened again at the next one; the flush that failed
is sent again by its ``ResultsWriter``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.rows import TupleRow

from strangler.compare.results_database import (
    ResultsDatabase,
    ResultsError,
    ResultsMissing,
    StoreUrl,
)
from strangler.compare.results_rows import Cursor
from strangler.compare.results_schema import SCHEMA_VERSION, Dialect

__all__ = ["POSTGRES", "SCHEMA", "PostgresResultsDatabase"]

POSTGRES = Dialect(
    "postgresql",
    prefix="strangler_compare_",
    placeholder="%s",
    greatest="GREATEST",
    least="LEAST",
    seq="id",
)
# A store on the same network answers in milliseconds; five seconds means it is not there.
CONNECT_TIMEOUT_SECONDS = 5
# As SQLite's busy timeout: a flush is ~20 statements in a few ms, and one waiting ten
# seconds for a route's row lock means another writer is stuck.
STATEMENT_TIMEOUT_MS = 10_000
# pg_advisory_xact_lock's key while the tables are created: "StrCmpR1" in ASCII, a number
# no other part of the toolkit uses.
SCHEMA_LOCK = 0x5374_7243_6D70_5231

SCHEMA = """
CREATE TABLE strangler_compare_schema (
    id integer PRIMARY KEY CHECK (id = 1),
    version integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE strangler_compare_routes (
    route text PRIMARY KEY,
    comparisons bigint NOT NULL DEFAULT 0,
    base_samples bigint NOT NULL DEFAULT 0,
    candidate_samples bigint NOT NULL DEFAULT 0,
    noise_explained bigint NOT NULL DEFAULT 0,
    dropped_keys bigint NOT NULL DEFAULT 0,
    dropped_clusters bigint NOT NULL DEFAULT 0,
    updated_at double precision NOT NULL
);
CREATE TABLE strangler_compare_verdicts (
    route text, verdict text, count bigint NOT NULL, PRIMARY KEY (route, verdict)
);
CREATE TABLE strangler_compare_fields (
    route text, key text, kind text, candidate bigint NOT NULL, base bigint NOT NULL,
    candidate_self bigint NOT NULL, critical integer NOT NULL, PRIMARY KEY (route, key, kind)
);
CREATE TABLE strangler_compare_clusters (
    route text, signature text, count bigint NOT NULL, first_seen double precision NOT NULL,
    last_seen double precision NOT NULL, PRIMARY KEY (route, signature)
);
CREATE TABLE strangler_compare_examples (
    id bigserial PRIMARY KEY, route text NOT NULL, signature text NOT NULL,
    at double precision NOT NULL, example text NOT NULL
);
CREATE INDEX strangler_compare_examples_by_cluster
    ON strangler_compare_examples (route, signature);
CREATE TABLE strangler_compare_statuses (
    route text, base text, candidate text, count bigint NOT NULL,
    PRIMARY KEY (route, base, candidate)
);
CREATE TABLE strangler_compare_latency (
    route text, side text, bucket integer, count bigint NOT NULL,
    PRIMARY KEY (route, side, bucket)
);
CREATE TABLE strangler_compare_latency_totals (
    route text, side text, count bigint NOT NULL, total_seconds double precision NOT NULL,
    PRIMARY KEY (route, side)
);
"""


class PostgresResultsDatabase(ResultsDatabase):
    dialect = POSTGRES

    def __init__(self, url: StoreUrl, *, create: bool = True) -> None:
        self.url = url
        self.where = f"the store {url}"
        self._create = create
        self._conn = self._connect()

    def _connect(self) -> psycopg.Connection[TupleRow]:
        try:
            conn = psycopg.connect(
                self.url.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
            )
        except psycopg.Error as exc:
            raise ResultsError(
                f"cannot open the comparison results in {self.where}: {exc}"
            ) from exc
        try:
            conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
            # As the SQLite file's synchronous=NORMAL: a crash of the server may lose the last
            # flushes (at most ~3 x wal_writer_delay, 0.6 s by default), never corrupt them;
            # a commit that waits for its WAL flush costs more than the rest of a flush.
            conn.execute("SET synchronous_commit = off")
            self._prepare(conn)
        except psycopg.Error as exc:
            conn.close()
            raise ResultsError(
                f"cannot open the comparison results in {self.where}: {exc}"
            ) from exc
        except ResultsError:
            conn.close()
            raise
        return conn

    def _prepare(self, conn: psycopg.Connection[TupleRow]) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            (table,) = conn.execute(
                "SELECT to_regclass('strangler_compare_schema')"
            ).fetchone() or (None,)
            if table is None:
                if not self._create:
                    raise ResultsMissing(f"no comparison results in {self.where}")
                conn.execute(SCHEMA)
                conn.execute(
                    "INSERT INTO strangler_compare_schema (id, version) VALUES (1, %s)",
                    (SCHEMA_VERSION,),
                )
                return
            row = conn.execute("SELECT version FROM strangler_compare_schema").fetchone()
            version = row[0] if row else None
            if version != SCHEMA_VERSION:
                raise ResultsError(
                    f"cannot open the comparison results in {self.where}: its tables have "
                    f"schema version {version}, this toolkit reads {SCHEMA_VERSION}"
                )

    def _connection(self) -> psycopg.Connection[TupleRow]:
        if self._conn.closed:  # lost since the last use (a restart, a network cut)
            self._conn = self._connect()
        return self._conn

    @contextmanager
    def writing(self) -> Iterator[Cursor]:
        try:
            conn = self._connection()
            with conn.pipeline(), conn.transaction(), conn.cursor() as cursor:
                yield cursor
        except psycopg.Error as exc:
            raise ResultsError(
                f"cannot write the comparison results in {self.where}: {exc}"
            ) from exc

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        try:
            conn = self._connection()
            with conn.transaction(), conn.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield cursor
        except psycopg.Error as exc:
            raise ResultsError(
                f"cannot read the comparison results in {self.where}: {exc}"
            ) from exc

    def close(self) -> None:
        self._conn.close()
