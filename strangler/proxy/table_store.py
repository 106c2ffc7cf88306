"""The live route table: loaded, validated, swapped whole; the old one stays on any error.

A request reads ``store.current`` once when it arrives and keeps that table (and its
upstreams' connection pools) to the end, so a reload never changes a request in flight.
The pools of replaced upstreams are closed only after the longest request could have
finished.

The table comes from the file (``load``, ``reload``, ``watch``), or, in a fleet, from the
shared control store (``strangler.proxy.fleet_member`` hands its versions to
``install_version`` and ``set_holds``); either way it is validated the same way
(``validated_table``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from strangler.proxy import metrics
from strangler.proxy.config import TableConfig, load_table_config, parse_table_config
from strangler.proxy.errors import ConfigError
from strangler.proxy.holds import NO_HOLDS, holds_path, read_holds
from strangler.proxy.routing import RouteTable
from strangler.proxy.upstreams import Upstream, UpstreamPool
from strangler.proxy.write_guard import (
    START_UP_PATIENCE_SECONDS,
    check_writes_carried,
    streams_to_check,
)

__all__ = ["ReloadResult", "TableStore", "validated_table", "watch_stopped"]

logger = logging.getLogger(__name__)
# The file is polled; half a second makes an edit live "at once" for a person and costs one
# stat() call per poll.
WATCH_INTERVAL_SECONDS = 0.5


@dataclass(frozen=True)
class ReloadResult:
    changed: bool
    error: str | None = None


class TableStore:
    def __init__(self, path: Path, pool: UpstreamPool, *, sync_secret: str = "") -> None:
        self.path = path
        self.pool = pool
        self.sync_secret = sync_secret  # reads the sync's status for proxy.write_guard
        self._current: RouteTable | None = None
        self._signature: tuple[int, int, int] | None = None
        self._closers: set[asyncio.Task[None]] = set()
        # Write holds (proxy.holds), polled with the table; waiters wake on every change.
        self.holds_path = holds_path(path)
        self.holds: Mapping[str, float] = NO_HOLDS
        self._holds_signature: tuple[int, int, int] | None = None
        self._changed = asyncio.Event()
        # The control store's versions of what is served (a fleet's replica); 0 from a file.
        self.table_version = 0
        self.holds_version = 0

    @property
    def current(self) -> RouteTable:
        assert self._current is not None, "load() first"
        return self._current

    def _stat(self, path: Path | None = None) -> tuple[int, int, int] | None:
        try:
            st = (path or self.path).stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    async def load(self) -> RouteTable:
        """The first load: an error stops start-up (there is no old table to keep)."""
        signature = self._stat()
        config = load_table_config(self.path)
        table = RouteTable(config, source=str(self.path))
        await _writes_carried(
            config, str(self.path), self.sync_secret, patience=START_UP_PATIENCE_SECONDS
        )
        self.install(table)
        self._signature = signature
        self.reload_holds()
        return table

    def reload_holds(self) -> None:
        """Re-read the holds file; an unreadable one keeps the holds already loaded."""
        signature = self._stat(self.holds_path)
        holds = read_holds(self.holds_path)
        self._holds_signature = signature
        if holds is not None and holds != self.holds:
            self.holds = holds
            logger.info("write holds now %s", dict(holds) or "none")
            self._notify()

    def install_version(self, table: RouteTable, version: int) -> bool:
        """Serve the control store's table ``version`` (validated by ``validated_table``)
        unless a version as new is served already (two paths deliver it: the admin API that
        wrote it, and the push every replica gets); whether it was installed."""
        if version <= self.table_version:
            return False
        if self._current is None or table.config != self._current.config:
            self.install(table)
        self.table_version = version
        logger.info("route table version %d now served (%d routes)", version, len(table.routes))
        return True

    def set_holds(self, holds: Mapping[str, float], version: int) -> bool:
        """Hold writes as the control store's holds ``version`` says, unless a version as
        new is in force already; whether they were taken."""
        if version <= self.holds_version:
            return False
        self.holds_version = version
        if holds != self.holds:
            self.holds = holds
            logger.info("write holds now %s (version %d)", dict(holds) or "none", version)
            self._notify()
        return True

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def changed(self) -> None:
        """Return at the next change of the table or of the holds."""
        await self._changed.wait()

    def install(self, table: RouteTable) -> None:
        retired = self.pool.apply(table.config)
        metrics.declare_routes(route.name for route in table.routes)
        self._current = table
        self._notify()
        if retired:
            grace = max((u.timeouts.total for u in table.config.upstreams.values()), default=60)
            task = asyncio.get_running_loop().create_task(_close_later(retired, grace))
            self._closers.add(task)
            task.add_done_callback(self._closers.discard)

    async def reload(self) -> ReloadResult:
        signature = self._stat()
        try:
            config: TableConfig = load_table_config(self.path)
            table = RouteTable(config, source=str(self.path))
            await _writes_carried(config, str(self.path), self.sync_secret)
        except ConfigError as exc:
            self._signature = signature
            logger.error("route table refused; the previous one keeps serving: %s", exc)
            return ReloadResult(changed=False, error=str(exc))
        self._signature = signature
        if self._current is not None and config == self._current.config:
            return ReloadResult(changed=False)
        self.install(table)
        logger.info("route table reloaded from %s (%d routes)", self.path, len(table.routes))
        return ReloadResult(changed=True)

    async def watch(self) -> None:
        """Reload whenever the file changes (edits, atomic renames by `strangler routes set`)."""
        while True:
            await asyncio.sleep(WATCH_INTERVAL_SECONDS)
            if self._stat() != self._signature:
                await self.reload()
            if self._stat(self.holds_path) != self._holds_signature:
                self.reload_holds()

    async def close(self) -> None:
        for task in list(self._closers):
            task.cancel()
        await self.pool.close()


def watch_stopped(task: asyncio.Task[None]) -> None:
    """The file's watch (or a fleet member's follower) ends only when cancelled; anything
    else is a bug that leaves the table frozen, said loudly."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        logger.critical("the route table is no longer followed: %r", exc, exc_info=exc)


async def validated_table(
    text: str, *, source: str, sync_secret: str, patience: float = 0.0
) -> RouteTable:
    """``text`` as a table, checked as a file is (schema, compiled table, the write-owner
    check); raises :class:`ConfigError` naming ``source``."""
    try:
        data = YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    config = parse_table_config(data, source=source)
    table = RouteTable(config, source=source)
    await _writes_carried(config, source, sync_secret, patience=patience)
    return table


async def _writes_carried(
    config: TableConfig, source: str, secret: str, *, patience: float = 0.0
) -> None:
    """The write-owner check (proxy.write_guard), off the event loop; no I/O at all unless a
    route gives its writes to a side other than the legacy upstream."""
    if streams_to_check(config):
        await asyncio.to_thread(
            check_writes_carried, config, source=source, secret=secret, patience=patience
        )


async def _close_later(upstreams: list[Upstream], grace: float) -> None:
    try:
        await asyncio.sleep(grace)
    finally:
        for upstream in upstreams:
            await upstream.close()
