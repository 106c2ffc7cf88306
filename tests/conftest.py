"""What every suite shares: the sync's TRUNCATE refusal lifted for test databases."""

from __future__ import annotations

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
