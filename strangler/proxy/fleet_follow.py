"""A fleet member following the control store while it serves: woken by the store's push
(``LISTEN strangler_control``), backed by a read of the versions every ``BACKSTOP_SECONDS``,
writing its row every ``HEARTBEAT_SECONDS``, and reconnecting with a short backoff when the
store is lost (``strangler.proxy.fleet_member`` says what a member is and does)."""

from __future__ import annotations

import asyncio
import contextlib

from strangler.control import HEARTBEAT_SECONDS, StoreError, StoreUnavailable
from strangler.control.listen import Change
from strangler.proxy.fleet_member import FleetMember

__all__ = ["BACKSTOP_SECONDS", "RECONNECT_MAX_SECONDS", "follow_store"]

# A NOTIFY is lost only with the connection that would carry it, and a lost connection is
# noticed within a heartbeat; a read of the two versions every 3 s covers any other gap for
# the price of one query.
BACKSTOP_SECONDS = 3.0
# Reconnecting: the first try after a short pause, then doubling up to 1 s, so a replica
# catches up within about 1 s of the store coming back (the fleet's 1 s target).
RECONNECT_FIRST_SECONDS = 0.1
RECONNECT_MAX_SECONDS = 1.0


async def follow_store(member: FleetMember) -> None:
    """Follow the store until cancelled: listen, converge, heartbeat, reconnect."""
    delay = RECONNECT_FIRST_SECONDS
    while True:
        try:
            await member.listener.connect()
            await member.refresh()  # whatever changed while nobody listened
            member.restored()
            await member.acknowledge()
            delay = RECONNECT_FIRST_SECONDS
            await _follow(member)
        except StoreUnavailable as exc:
            member.lost(exc)
            await member.listener.close()
            with contextlib.suppress(StoreError):  # the row may still be writable
                await member.acknowledge()
        await asyncio.sleep(delay)
        delay = min(delay * 2, RECONNECT_MAX_SECONDS)


async def _follow(member: FleetMember) -> None:
    """One connection's life: every wait ends at the next heartbeat, a push sooner."""
    loop = asyncio.get_running_loop()
    next_beat = loop.time() + HEARTBEAT_SECONDS
    next_backstop = loop.time() + BACKSTOP_SECONDS
    while True:
        changes = await member.listener.wait(timeout=max(0.0, next_beat - loop.time()))
        if changes:
            await _changed(member, changes)
        if loop.time() >= next_backstop:
            await member.refresh()
            next_backstop = loop.time() + BACKSTOP_SECONDS
        if loop.time() >= next_beat:
            await member.acknowledge()
            next_beat = loop.time() + HEARTBEAT_SECONDS


async def _changed(member: FleetMember, changes: list[Change]) -> None:
    """Read only what a notification says is newer than what is served."""
    table = max((v for kind, v in changes if kind == "table"), default=0)
    holds = max((v for kind, v in changes if kind == "holds"), default=0)
    await member.converge(table, holds)
