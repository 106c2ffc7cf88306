"""Comparison results in one SQLite file: the embedded default, for the workers of one host.

SQLite in WAL mode lets readers go on while one writer commits; writers queue on the
file's lock (``BEGIN IMMEDIATE``, waiting up to ``BUSY_TIMEOUT_SECONDS``). A flush is one
short transaction, so a few workers flushing every few seconds never wait long. The schema
version is the file's ``PRAGMA user_version``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from strangler.compare.results_database import ResultsDatabase, ResultsError, ResultsMissing
from strangler.compare.results_rows import Cursor
from strangler.compare.results_schema import SCHEMA, SCHEMA_VERSION, SQLITE

__all__ = ["BUSY_TIMEOUT_SECONDS", "SqliteResultsDatabase"]

# A flush is a handful of upserts (~1 ms); ten seconds of waiting means a writer is stuck.
BUSY_TIMEOUT_SECONDS = 10.0


class SqliteResultsDatabase(ResultsDatabase):
    dialect = SQLITE

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        self.where = str(path)
        if not create and not path.is_file():
            raise ResultsMissing(f"no comparison results at {path}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise ResultsError(f"cannot open the comparison results at {path}: {exc}") from exc
        try:
            self._prepare()
        except sqlite3.Error as exc:
            self._db.close()
            raise ResultsError(f"cannot open the comparison results at {path}: {exc}") from exc

    def _prepare(self) -> None:
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"the file refused WAL mode (it is in {mode} mode)")
        # In WAL mode NORMAL survives a crash of the process; a power cut may lose the last
        # flushes, which for comparison counts is a fair price for not syncing each one.
        self._db.execute("PRAGMA synchronous=NORMAL")
        # Two processes opening a new file at once: the second waits here, then sees v1.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            elif version != SCHEMA_VERSION:
                raise sqlite3.DatabaseError(
                    f"the file has schema version {version}, this toolkit reads {SCHEMA_VERSION}"
                )
            self._db.execute("COMMIT")
        finally:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")

    @contextmanager
    def writing(self) -> Iterator[Cursor]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            finally:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            raise ResultsError(
                f"cannot write the comparison results at {self.where}: {exc}"
            ) from exc

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        try:
            # A deferred transaction: its first read fixes the snapshot the others share.
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                self._db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            raise ResultsError(
                f"cannot read the comparison results at {self.where}: {exc}"
            ) from exc

    def close(self) -> None:
        self._db.close()
