"""A side may take a route's writes only while the sync carries its writes to the other side.

A table whose route names a ``write_owner`` other than the legacy upstream is accepted only
when that upstream's sync node reports its stream back to the legacy node as on; otherwise
the writes it takes would never reach the monolith, and a later monolith write to the same
row would be dropped by the service as stale (or overwrite it): two sides different, no
error. Every way a table comes in goes through here: the file at start-up and on every
reload (edited by hand, ``strangler routes set``), and the admin API, which checks before
it writes the file.

The upstream's name is its sync node's name, and its base URL (its first endpoint's, or an
address its DNS discovery answers) serves the node's ``/internal/sync/status`` (signed
with the proxy's ``STRANGLER_SYNC_SECRET``, as the plans read it).
``unsynced_writes_accepted: true`` on a route skips the check: the one escape hatch, for a
side whose copy nobody reads any more (docs/proxy.md).

The check reads over the network, so it blocks: callers in the event loop run it in a thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests

from strangler.plans.figures import stream_state
from strangler.proxy.config import TableConfig
from strangler.proxy.discovery import DiscoveryFailed, resolve_now
from strangler.proxy.errors import ConfigError
from strangler.servicekit.secret_settings import SYNC_SECRET

__all__ = ["CarriedStream", "WritesNotCarried", "check_writes_carried", "streams_to_check"]

# Asking a node that is starting (a stack coming up) again, for this long, before refusing.
START_UP_PATIENCE_SECONDS = 30.0
_RETRY_SECONDS = 0.5


class WritesNotCarried(ConfigError):
    """A write owner whose writes the sync would not carry back (or nobody could tell)."""

    default_code = "writes_not_carried"


@dataclass(frozen=True)
class CarriedStream:
    """A route whose write owner's writes must be carried back: which stream must be on."""

    route: str
    index: int
    writer: str
    writer_url: str  # "": the writer's endpoints come from DNS, resolved when checked
    peer: str


def streams_to_check(config: TableConfig) -> list[CarriedStream]:
    """Routes whose write owner is not the legacy upstream, without the escape hatch."""
    return [
        CarriedStream(
            route=route.name,
            index=index,
            writer=route.writer(config.legacy),
            writer_url=next(iter(config.upstreams[route.writer(config.legacy)].static_urls), ""),
            peer=config.legacy,
        )
        for index, route in enumerate(config.routes)
        if route.writer(config.legacy) != config.legacy and not route.unsynced_writes_accepted
    ]


def check_writes_carried(
    config: TableConfig, *, source: str, secret: str, patience: float = 0.0
) -> None:
    """Raise :class:`WritesNotCarried` naming the route, its ``write_owner`` and the stream
    that is off or unreadable. ``secret``: the sync secret the nodes' status is read with;
    ``patience``: keep asking an unreadable node this long (start-up)."""
    verdicts: dict[tuple[str, str], str | None] = {}
    with requests.Session() as session:
        for need in streams_to_check(config):
            key = (need.writer_url or need.writer, need.peer)
            if key not in verdicts:
                verdicts[key] = _problem(session, need, config, secret, patience)
            problem = verdicts[key]
            if problem is not None:
                raise WritesNotCarried(
                    f"{source}: routes[{need.index}] ({need.route}), field 'write_owner': "
                    f"{need.writer!r} would take the route's writes, but {problem}; turn the "
                    f"stream on first (`sync_stream {need.peer} --enable` on {need.writer}, as "
                    "the migration plan's cutover does), or set unsynced_writes_accepted: true "
                    "if nobody reads the other side's copy any more (docs/proxy.md)"
                )


def _problem(
    session: requests.Session,
    need: CarriedStream,
    config: TableConfig,
    secret: str,
    patience: float,
) -> str | None:
    stream_name = f"the sync stream {need.writer} -> {need.peer}"
    if not secret:
        return (
            f"{stream_name} cannot be checked: the proxy has no {SYNC_SECRET.name} to read "
            "the sync's status with (set it in the proxy's environment)"
        )
    url = need.writer_url
    if not url:  # any instance serves its node's status
        discovery = config.upstreams[need.writer].discovery
        assert discovery is not None  # no URL in the table: found by discovery
        try:
            url = resolve_now(discovery).addresses[0].base_url
        except DiscoveryFailed as exc:
            return f"{stream_name} could not be read (no endpoint of {need.writer}: {exc})"
    deadline = time.monotonic() + patience
    while True:
        errors: list[str] = []
        state = stream_state(url, need.writer, need.peer, session, errors, secret=secret)
        if state is not None:
            return None if state.enabled else f"{stream_name} is off"
        if not errors:
            return f"{need.writer}'s sync node has no stream to {need.peer!r}"
        if time.monotonic() >= deadline:
            return f"{stream_name} could not be read ({errors[0]})"
        time.sleep(_RETRY_SECONDS)
