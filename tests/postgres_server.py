"""The PostgreSQL server the suites that need one run against, and fresh databases on it.

``STRANGLER_TEST_POSTGRES`` names the server (default this machine's, postgres@127.0.0.1:5432).
Where none answers, those tests skip with the reason, unless ``STRANGLER_REQUIRE_POSTGRES=1``
(set by ``.ci/run``), where they fail: CI never passes by skipping them.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

__all__ = ["fresh_database", "server_url"]


def server_url() -> str:
    """The server's URL without a database; skips (or fails, in CI) when it does not answer."""
    url = os.environ.get("STRANGLER_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    try:
        psycopg.connect(f"{url}/postgres", connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = f"no PostgreSQL at {url} ({exc}); set STRANGLER_TEST_POSTGRES"
        if os.environ.get("STRANGLER_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " (STRANGLER_REQUIRE_POSTGRES=1: not skipped)")
        pytest.skip(reason)
    return url


@contextlib.contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """A new empty database for one test (module); its URL. Dropped afterwards."""
    server = server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
