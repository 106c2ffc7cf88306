"""The proxy's replicas as ``strangler routes list`` shows them: what each serves, when it was
last heard from, and which lag.

From the control store directly when ``STRANGLER_STORE_URL`` is set (every member's row:
its table and holds versions, its last heartbeat); else from the admin API's ``GET /fleet``
when the proxy answers one (a proxy in store mode). A replica lags when it has not written
its row for ``LAG_AFTER_SECONDS`` (cut off from the store, or stopped), says it is degraded,
or serves an older table or holds version than the store holds.
"""

from __future__ import annotations

import time
from typing import Any

from strangler.overview.fleet import fleet_from_store

__all__ = ["fleet_from_admin", "fleet_from_store", "print_fleet"]


def fleet_from_admin(payload: dict[str, Any], *, location: str) -> dict[str, Any] | None:
    """The fleet's view from the admin API's ``GET /fleet`` answer; ``None`` if it lists none."""
    rows = payload.get("members")
    if not isinstance(rows, list):
        return None
    now = float(payload.get("now") or time.time())
    replicas = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        seen = row.get("seen_at")
        ago = round(max(0.0, now - float(seen)), 3) if isinstance(seen, int | float) else None
        replicas.append({**row, "lagging": row.get("lagging"), "seen_seconds_ago": ago})
    return {
        "source": "admin",
        "location": location,
        "table_version": payload.get("table_version"),
        "holds_version": payload.get("holds_version"),
        "replicas": replicas,
    }


def print_fleet(fleet: dict[str, Any]) -> None:
    replicas: list[dict[str, Any]] = fleet["replicas"]
    where = (
        f"the control store at {fleet['location']}"
        if fleet["source"] == "store"
        else f"the proxy at {fleet['location']}"
    )
    if not replicas:
        print(
            f"No proxy replica has joined the fleet in {where} (a proxy started with "
            "STRANGLER_STORE_URL joins it)."
        )
        return
    print(
        f"Proxy replicas ({where}: table version {fleet['table_version']}, holds version "
        f"{fleet['holds_version']}):"
    )
    header = ["REPLICA", "ADMIN", "TABLE", "HOLDS", "LAST SEEN", "STATE"]
    rows = [header]
    for replica in replicas:
        ago = replica.get("seen_seconds_ago")
        lagging = replica.get("lagging")
        rows.append(
            [
                str(replica.get("replica")),
                str(replica.get("admin_url")),
                str(replica.get("table_version")),
                str(replica.get("holds_version")),
                "?" if ago is None else f"{ago:.1f} s ago",
                f"LAGGING: {lagging}" if lagging else "ok",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    lag = sum(1 for replica in replicas if replica.get("lagging"))
    if lag:
        print(f"{lag} of {len(replicas)} replicas lag.")
