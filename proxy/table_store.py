"""The live route table: loaded, validated, swapped whole; the old one stays on any error.

A request reads ``store.current`` once when it arrives and keeps that table (and its
upstream sessions) to the end, so a reload never changes a request in flight. Sessions of
replaced upstreams are closed only after the longest request could have finished.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from proxy.config import TableConfig, load_table_config
from proxy.errors import ConfigError
from proxy.routing import RouteTable
from proxy.upstreams import UpstreamPool

__all__ = ["ReloadResult", "TableStore"]

logger = logging.getLogger(__name__)
# The file is polled; half a second makes an edit live "at once" for a person and costs one
# stat() call per poll.
WATCH_INTERVAL_SECONDS = 0.5


@dataclass(frozen=True)
class ReloadResult:
    changed: bool
    error: str | None = None


class TableStore:
    def __init__(self, path: Path, pool: UpstreamPool) -> None:
        self.path = path
        self.pool = pool
        self._current: RouteTable | None = None
        self._signature: tuple[int, int, int] | None = None
        self._closers: set[asyncio.Task[None]] = set()

    @property
    def current(self) -> RouteTable:
        assert self._current is not None, "load() first"
        return self._current

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def load(self) -> RouteTable:
        """The first load: an error stops start-up (there is no old table to keep)."""
        signature = self._stat()
        table = RouteTable(load_table_config(self.path), source=str(self.path))
        self.install(table)
        self._signature = signature
        return table

    def install(self, table: RouteTable) -> None:
        retired = self.pool.apply(table.config)
        self._current = table
        if retired:
            grace = max((u.timeouts.total for u in table.config.upstreams.values()), default=60)
            task = asyncio.get_running_loop().create_task(_close_later(retired, grace))
            self._closers.add(task)
            task.add_done_callback(self._closers.discard)

    def reload(self) -> ReloadResult:
        signature = self._stat()
        try:
            config: TableConfig = load_table_config(self.path)
            table = RouteTable(config, source=str(self.path))
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
                self.reload()

    async def close(self) -> None:
        for task in list(self._closers):
            task.cancel()
        await self.pool.close()


async def _close_later(sessions: list[aiohttp.ClientSession], grace: float) -> None:
    try:
        await asyncio.sleep(grace)
    finally:
        for session in sessions:
            await session.close()
