"""``DATABASE_URL`` to a Django ``DATABASES`` entry, with the options each engine needs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import django
import environ

__all__ = ["SQLITE_BUSY_TIMEOUT_SECONDS", "database_from_url"]

# Writers on SQLite queue on one lock; 20 s outlasts any transaction of ours under the
# stock-race test (50 concurrent placements) with a wide margin.
SQLITE_BUSY_TIMEOUT_SECONDS = 20
# Long enough to reuse a connection across a burst of requests, short enough that a
# restarted PostgreSQL is noticed quickly (with CONN_HEALTH_CHECKS).
POSTGRES_CONN_MAX_AGE_SECONDS = 60


def database_from_url(url: str, *, test_name_prefix: str, var_dir: Path) -> dict[str, Any]:
    """Parse ``url``; a malformed one raises ``ImproperlyConfigured`` naming ``DATABASE_URL``."""
    config: dict[str, Any] = dict(environ.Env.db_url_config(url))
    engine = config.get("ENGINE", "")
    # The process id keeps parallel test runs on one machine from sharing a test database.
    test_suffix = f"{test_name_prefix}_{os.getpid()}"
    if engine == "django.db.backends.sqlite3":
        if django.VERSION < (5, 1):
            # The two options below came with Django 5.1; older Django gets them here.
            config["ENGINE"] = "strangler.servicekit.sqlite_compat"
        config["OPTIONS"] = {
            # BEGIN IMMEDIATE takes the write lock up front: a deferred transaction that reads
            # and then writes fails at once with "database is locked" under WAL instead of
            # waiting, which would turn every stock race into a 500.
            "transaction_mode": "IMMEDIATE",
            "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        config["TEST"] = {"NAME": str(var_dir / f"{test_suffix}.sqlite3")}
    elif engine.startswith("django.db.backends.postgresql"):
        config["CONN_MAX_AGE"] = POSTGRES_CONN_MAX_AGE_SECONDS
        config["CONN_HEALTH_CHECKS"] = True
        config["TEST"] = {"NAME": test_suffix}
    elif engine == "django.db.backends.mysql":
        config["CONN_MAX_AGE"] = POSTGRES_CONN_MAX_AGE_SECONDS
        config["CONN_HEALTH_CHECKS"] = True
        # utf8mb4: every Unicode character (MySQL's "utf8" stops at three bytes). READ
        # COMMITTED is Django's default for MySQL, and what the sync's relay expects.
        config["OPTIONS"] = {"charset": "utf8mb4", "isolation_level": "read committed"}
        config["TEST"] = {"NAME": test_suffix, "CHARSET": "utf8mb4"}
    return config
