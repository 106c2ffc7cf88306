"""One worker process as a member of a fleet of proxies steered by the shared control store
(``STRANGLER_STORE_URL``, ``strangler.control``).

The member serves the store's route table and write holds, and follows them
(``strangler.proxy.fleet_follow``): a push wakes it at every change, a read of the versions
every few seconds covers a notification lost with a connection, and it installs only
versions newer than the one it serves. Its row in the store (``heartbeat``) says what it
serves: written every ``HEARTBEAT_SECONDS`` and at once after a new table or holds, which is
its acknowledgement (``ControlStore.wait_for_fleet``).

Every store call runs in one of the member's threads (``call``), from the follower or the
admin API, never on the request path: a request reads only what is installed in memory.
When the store is lost the member keeps serving its last table and holds (a hold still ends
at its own ``hold_until``), marks itself degraded (``strangler_proxy_store_up`` 0,
``/readyz`` says so) and reconnects with a short backoff; on reconnect it reads the table
and the holds, installs, heartbeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from strangler.control import (
    ControlStore,
    HoldsRecord,
    StoreError,
    StoreUnavailable,
    TableRecord,
)
from strangler.control.listen import ChangeListener
from strangler.proxy import metrics
from strangler.proxy.errors import ConfigError
from strangler.proxy.fleet_start import first_table, store_source
from strangler.proxy.routing import RouteTable
from strangler.proxy.settings import ProxySettings
from strangler.proxy.table_store import TableStore, validated_table

__all__ = ["FleetMember", "StoreStatus"]

logger = logging.getLogger(__name__)
T = TypeVar("T")

# A row's detail (why a member is degraded or lags) is read by a person in `routes list`.
DETAIL_CHARACTERS = 500


@dataclass(frozen=True)
class StoreStatus:
    """What ``/readyz`` and ``/routes`` say about this member's link to the store."""

    where: str
    up: bool
    error: str | None
    table_version: int
    holds_version: int

    def as_json(self) -> dict[str, object]:
        return {
            "url": self.where,
            "up": self.up,
            "error": self.error,
            "table_version": self.table_version,
            "holds_version": self.holds_version,
        }


class FleetMember:
    def __init__(self, settings: ProxySettings, tables: TableStore) -> None:
        assert settings.store_url, "a member needs STRANGLER_STORE_URL"
        self.settings = settings
        self.name = settings.member
        self.tables = tables
        self.control = ControlStore(
            settings.store_url, application_name=f"strangler proxy {self.name}"
        )
        self.listener = ChangeListener(
            settings.store_url, application_name=f"strangler proxy {self.name} listener"
        )
        self.where = self.control.where
        # Store calls run here, not in the loop's default executor, so that stopping can wait
        # for the ones under way and drop the ones queued: none may open a connection after
        # the store is closed. Eight: the store serialises on its one connection anyway;
        # threads beyond the heartbeat and the follower serve admin requests waiting on the
        # fleet (wait_for_fleet holds one for up to FLEET_ACK_SECONDS).
        self._threads = ThreadPoolExecutor(max_workers=8, thread_name_prefix="fleet-store")
        self.up = False
        self.error: str | None = None
        self.started_at = time.time()
        # Row writes one at a time, each with the versions served when it runs, so a row
        # never goes back a version; none after leaving (a heartbeat still in its thread
        # would otherwise bring a stopped member back for MEMBER_EXPIRY_SECONDS).
        self._row = threading.Lock()
        self._left = False
        self._refused: tuple[int, str] | None = None  # the store's table version refused
        self._set_metrics()

    @property
    def status(self) -> StoreStatus:
        return StoreStatus(
            self.where, self.up, self.error, self.tables.table_version, self.tables.holds_version
        )

    async def call(self, function: Callable[..., T], *args: object, **kwargs: object) -> T:
        """``function`` (a blocking store call) in one of this member's threads."""
        return await asyncio.wrap_future(self._threads.submit(function, *args, **kwargs))

    # -- start and stop -----------------------------------------------------------------
    async def start(self) -> None:
        """Serve the store's table (seeding it from the file when it holds none) and holds,
        and join the fleet; :class:`~strangler.proxy.fleet_start.StartRefused` when there is
        nothing to serve."""
        try:
            record, table = await first_table(
                self.control,
                self.settings.routes_path,
                member=self.name,
                sync_secret=self.settings.sync_secret,
            )
        except BaseException:
            await self._stop_threads()
            raise
        self.tables.install_version(table, record.version)
        try:
            holds = await self.call(self.control.read_holds)
            self.tables.set_holds(holds.holds, holds.version)
            self.restored()
            await self.acknowledge()
        except StoreUnavailable as exc:  # it blinked after the table: serve, catch up later
            self.lost(exc)
        logger.info("member %s of the fleet at %s serves table version %d",
                    self.name, self.where, self.tables.table_version)  # fmt: skip

    async def leave(self) -> None:
        """A clean stop: out of the fleet at once, so no change waits for this member."""
        await self.listener.close()
        try:
            await self.call(self._leave_fleet)
            logger.info("member %s left the fleet", self.name)
        except StoreError as exc:
            logger.warning("member %s could not leave the fleet: %s", self.name, exc.message)
        await self._stop_threads()
        metrics.STORE_UP.remove(self.name)
        metrics.SERVED_TABLE_VERSION.remove(self.name)
        metrics.SERVED_HOLDS_VERSION.remove(self.name)

    async def _stop_threads(self) -> None:
        await asyncio.to_thread(self._threads.shutdown, wait=True, cancel_futures=True)
        self.control.close()

    # -- installing what the store holds --------------------------------------------------
    async def install_table(self, record: TableRecord, table: RouteTable | None = None) -> bool:
        """Serve ``record`` if newer than the table served (``table``: already validated);
        acknowledge it. Raises :class:`ConfigError` when this replica refuses it."""
        if record.version <= self.tables.table_version:
            return False
        if table is None:
            table = await validated_table(
                record.text,
                source=store_source(self.control, record.version),
                sync_secret=self.settings.sync_secret,
            )
        if not self.tables.install_version(table, record.version):
            return False
        self._refused = None
        self._set_metrics()
        await self._acknowledge_now()
        return True

    async def install_holds(self, record: HoldsRecord) -> bool:
        """Hold writes as ``record`` says if newer than the holds in force; acknowledge it."""
        if not self.tables.set_holds(record.holds, record.version):
            return False
        self._set_metrics()
        await self._acknowledge_now()
        return True

    async def _acknowledge_now(self) -> None:
        """The acknowledgement of what was just installed; a store that fails here is the
        follower's to notice (its next heartbeat fails too) and the install stands."""
        with contextlib.suppress(StoreUnavailable):
            await self.acknowledge()

    async def refresh(self) -> bool:
        """Read the table and the holds now and install what is newer; whether anything was."""
        table_version, holds_version = await self.call(self.versions)
        return await self.converge(table_version, holds_version)

    def versions(self) -> tuple[int, int]:
        """The store's table and holds versions now. Blocking: run in a thread."""
        return self.control.table_version(), self.control.holds_version()

    @property
    def refused(self) -> str | None:
        """Why the store's newer table is not served here, while it is not."""
        if self._refused is None or self._refused[0] <= self.tables.table_version:
            return None
        return self._refused[1]

    async def converge(self, table_version: int, holds_version: int) -> bool:
        changed = False
        if table_version > self.tables.table_version:
            record = await self.call(self.control.read_table)
            if record is not None:
                try:
                    changed = await self.install_table(record)
                except ConfigError as exc:
                    if self._refuse(record.version, exc.message):
                        await self._acknowledge_now()  # the fleet's view says why, at once
        if holds_version > self.tables.holds_version:
            changed = await self.install_holds(await self.call(self.control.read_holds)) or changed
        return changed

    def _refuse(self, version: int, message: str) -> bool:
        """The store's table is one this replica will not serve (the write-owner check
        failed here, say): the old one keeps serving; said once a version, retried at each
        backstop read, and shown in the member's row so the fleet's view flags it. Whether
        the refusal is news."""
        news = self._refused != (version, message)
        if news:
            logger.error("route table refused; the previous one keeps serving: %s", message)
        self._refused = (version, message)
        return news

    # -- the acknowledgement --------------------------------------------------------------
    async def acknowledge(self) -> None:
        """Write this member's row: the versions it serves now, and that it lives."""
        await self.call(self._write_row)

    def _write_row(self) -> None:
        with self._row:
            if self._left:
                return
            refused = self._refused
            detail = f"refused table version {refused[0]}: {refused[1]}" if refused else None
            self.control.heartbeat(
                replica=self.name,
                admin_url=self.settings.admin_url,
                public_url=self.settings.public_url,
                table_version=self.tables.table_version,
                holds_version=self.tables.holds_version,
                degraded=not self.up,
                detail=(detail or self.error or "")[:DETAIL_CHARACTERS],
                started_at=self.started_at,
            )

    def _leave_fleet(self) -> None:
        with self._row:
            self._left = True
            self.control.leave(self.name)

    # -- the link's state ------------------------------------------------------------------
    def lost(self, exc: StoreError) -> None:
        """The store cannot be reached: serve on what is installed, degraded."""
        if self.up or self.error is None:
            logger.warning(
                "control store lost (%s); serving table version %d and holds version %d "
                "until it is back",
                exc.message,
                self.tables.table_version,
                self.tables.holds_version,
            )
        self.up, self.error = False, exc.message
        self._set_metrics()

    def restored(self) -> None:
        if not self.up and self.error is not None:
            logger.info("control store at %s is back", self.where)
        self.up, self.error = True, None
        self._set_metrics()

    def _set_metrics(self) -> None:
        metrics.STORE_UP.labels(self.name).set(1 if self.up else 0)
        metrics.SERVED_TABLE_VERSION.labels(self.name).set(self.tables.table_version)
        metrics.SERVED_HOLDS_VERSION.labels(self.name).set(self.tables.holds_version)
