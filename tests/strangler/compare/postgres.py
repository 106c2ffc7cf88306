"""A PostgreSQL database of its own for one test: the results' second backend.

The server is this machine's (127.0.0.1:5432, user postgres, trust authentication). Each
database is made for one test, named ``compare_...`` so that suites running at once on the
same server never meet, and dropped after it. A server out of reach skips the test with the
reason (``pytest -ra`` lists it), or fails it when ``STRANGLER_REQUIRE_POSTGRES=1`` (CI,
which starts the server first). ``query`` reads with plain SQL, not the code under test.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from strangler.compare.results import StoreUrl

SERVER = "postgresql://postgres@127.0.0.1:5432"
DATABASE_PREFIX = "compare_"
REQUIRE_VARIABLE = "STRANGLER_REQUIRE_POSTGRES"
CONNECT_TIMEOUT_SECONDS = 3

_numbers = itertools.count()


def _admin() -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(
            f"{SERVER}/postgres", autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
        )
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at {SERVER}: {' '.join(str(exc).split())}"
        if os.environ.get(REQUIRE_VARIABLE) == "1":
            pytest.fail(f"{reason} ({REQUIRE_VARIABLE}=1)")
        pytest.skip(f"{reason}; set {REQUIRE_VARIABLE}=1 to fail instead of skipping")


@contextmanager
def fresh_database(label: str) -> Iterator[StoreUrl]:
    """An empty database for the block, dropped after it (its connections too)."""
    name = f"{DATABASE_PREFIX}{label}_{os.getpid()}_{next(_numbers)}"
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield StoreUrl(f"{SERVER}/{name}")
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(url: StoreUrl, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url.url, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []
