"""Push from the control store: ``LISTEN strangler_control`` on an async connection.

A proxy replica waits here for ``table:<version>`` and ``holds:<version>`` and reloads at
once; a caller that loses the connection gets :class:`StoreUnavailable` and decides how to
go on (the proxy keeps serving what it has and reconnects).
"""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg

from strangler.control.errors import StoreUnavailable
from strangler.control.postgres import (
    CONNECT_TIMEOUT_SECONDS,
    LINK_TIMEOUTS,
    STATEMENT_TIMEOUT_MS,
    check_url,
)
from strangler.control.schema import NOTIFY_CHANNEL
from strangler.environment import describe_url

__all__ = ["Change", "ChangeListener"]

Change = tuple[str, int]
"""``("table", version)`` or ``("holds", version)``."""


def _parse(payload: str) -> Change | None:
    kind, _, version = payload.partition(":")
    if kind not in ("table", "holds") or not version.isdigit():
        return None
    return kind, int(version)


class ChangeListener:
    def __init__(self, url: str, *, application_name: str = "strangler listener") -> None:
        self.url = check_url(url)
        self.application_name = application_name
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def connect(self) -> None:
        await self.close()
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.url,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                application_name=self.application_name,
                options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
                # A peer that vanishes without a FIN (a cut cable, a partition) is noticed
                # within about 5 s, idle or mid-query, rather than the kernel's hours.
                **LINK_TIMEOUTS,
            )
            # Held from here, so that close() closes it even when the caller is cancelled
            # (a proxy stopping) while LISTEN is under way.
            self._conn = conn
            await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        except psycopg.Error as exc:
            await self.close()
            raise StoreUnavailable(
                f"cannot listen to the control store at {describe_url(self.url)}: {exc}"
            ) from exc

    async def wait(self, timeout: float) -> list[Change]:
        """The changes announced within ``timeout`` seconds (none: an empty list)."""
        if self._conn is None:
            raise StoreUnavailable("not connected to the control store")
        changes: list[Change] = []
        try:
            async for notify in self._conn.notifies(timeout=timeout):
                change = _parse(notify.payload)
                if change is not None:
                    changes.append(change)
                break  # one wake-up; the caller reads the store, which covers the rest
            # A quiet wait is also a liveness check: a dead connection raises here.
            await self._conn.execute("SELECT 1")
        except psycopg.Error as exc:
            await self.close()
            raise StoreUnavailable(
                f"lost the control store at {describe_url(self.url)}: {exc}"
            ) from exc
        return changes

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error, OSError):
                await conn.close()
