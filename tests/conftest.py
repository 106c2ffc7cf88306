"""What every suite shares: the sync's TRUNCATE refusal lifted for test databases, and no
shared control store from the shell (a test that wants one sets it for itself)."""

from __future__ import annotations

import os
from typing import Any

from django.db.backends.signals import connection_created


def _allow_truncate(sender: Any, connection: Any, **_: Any) -> None:
    # pytest-django empties tables between transactional tests with TRUNCATE, which the sync's
    # capture refuses on PostgreSQL unless the session allows it deliberately (docs/sync.md;
    # tests/strangler/sync/test_capture.py turns it off again to test the refusal).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET strangler.allow_truncate = 'on'")


connection_created.connect(_allow_truncate, dispatch_uid="tests_allow_truncate")


# A developer's shell may name a fleet's store: the suites must never write to it.
os.environ.pop("STRANGLER_STORE_URL", None)
