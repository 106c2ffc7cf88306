"""The proxy's fleet as the control store holds it: every replica, what it serves, which lag.

Shared by ``strangler routes list``, ``strangler status`` and the dashboard.
"""

from __future__ import annotations

from typing import Any

from strangler.control import ControlStore

__all__ = ["fleet_from_store"]


def fleet_from_store(store: ControlStore) -> dict[str, Any]:
    """The fleet's view from the store; raises :class:`~strangler.control.StoreError`."""
    table_version, holds_version = store.table_version(), store.holds_version()
    now, members = store.fleet()
    replicas = []
    for member in members:
        row = member.as_json(now=now, table_version=table_version)
        if row["lagging"] is None and member.holds_version < holds_version:
            row["lagging"] = (
                f"serves holds version {member.holds_version}, the store has {holds_version}"
            )
        replicas.append({**row, "seen_seconds_ago": round(max(0.0, now - member.seen_at), 3)})
    return {
        "source": "store",
        "location": store.where,
        "table_version": table_version,
        "holds_version": holds_version,
        "replicas": replicas,
    }
