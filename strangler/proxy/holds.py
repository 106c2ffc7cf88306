"""Write holds for a cutover: while a route is held, its unsafe requests wait for the release.

A hold is operational state, not configuration: it lives beside the route table in
``<table>.holds.json`` (``{"route": hold_until_epoch_seconds}``), written atomically under
the table's writers' lock, so the version-controlled table is never touched and every
worker process (SO_REUSEPORT) sees it by polling the file as it polls the table.

A hold is bounded by its own ``hold_until``: when the runner that asked for it crashes, or
the proxy restarts, writes flow again at that time at the latest.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from strangler import routes_file

__all__ = [
    "MAX_HOLD_SECONDS",
    "NO_HOLDS",
    "holds_path",
    "read_holds",
    "write_hold",
]

logger = logging.getLogger(__name__)

# A cutover's hold covers flipping the mode and draining the sync: seconds at demo size.
# Two minutes of waiting writes is the most a client (and its own timeout) should bear.
MAX_HOLD_SECONDS = 120.0
NO_HOLDS: Mapping[str, float] = MappingProxyType({})


def holds_path(table_path: Path) -> Path:
    """Beside the table (through a symlink: beside its target, where the lock is taken)."""
    resolved = table_path.resolve()
    return resolved.with_name(resolved.name + ".holds.json")


def read_holds(path: Path) -> Mapping[str, float] | None:
    """The holds in force; ``None`` when the file cannot be read (keep the last ones)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return NO_HOLDS
    except OSError as exc:
        logger.error("write holds %s unreadable: %s", path, exc.strerror)
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        logger.error("write holds %s is not JSON: %s", path, exc)
        return None
    if not isinstance(data, dict):
        logger.error("write holds %s is not a JSON object", path)
        return None
    holds = {
        str(name): float(until)
        for name, until in data.items()
        if isinstance(until, int | float) and not isinstance(until, bool)
    }
    return MappingProxyType(holds)


def write_hold(
    table_path: Path,
    route: str,
    until: float,
    *,
    written: Callable[[float | None], None] | None = None,
) -> Mapping[str, float]:
    """Set route's ``hold_until`` (0: release) and drop expired holds; the holds written.
    ``written`` is called, still under the lock, with the route's hold in force before
    (``None``: none), so the audit trail records changes in the order they were made.

    Blocking (lock, fsync): run it in a thread."""
    path = holds_path(table_path)
    with routes_file.locked(table_path):
        current = read_holds(path) or NO_HOLDS
        now = time.time()
        holds = {name: t for name, t in current.items() if t > now and name != route}
        if until > now:
            holds[route] = until
        routes_file.write_atomically(path, json.dumps(holds, sort_keys=True) + "\n")
        if written is not None:
            before = current.get(route)
            written(before if before is not None and before > now else None)
    return MappingProxyType(holds)
