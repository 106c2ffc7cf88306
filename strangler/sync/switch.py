"""Whether a stream runs: the registration's ``enabled``, unless an operator chose otherwise.

A migration plan's cutover turns the service's stream back to the monolith on, and a
rollback turns it off again, at run time (``sync_stream``); the choice is kept in the
stream's row until cleared, and then the registration decides again.

The receiver is told too (``POST /internal/sync/switch``): a stream turned off sends no more
heartbeats, and without being told the receiver would call it stuck. The switch tells it at
once when it can, and every relay pass tells it again until it has acknowledged the
stream's current state, so a peer that was down at the switch learns it when it is back.
"""

from __future__ import annotations

import logging

from strangler.sync.config import sync_settings
from strangler.sync.errors import SyncError
from strangler.sync.models import Cursor, Stream
from strangler.sync.transport import ReceiverClient

__all__ = [
    "source_switch_record",
    "stream_enabled",
    "stream_switch",
    "switch_tell",
    "switch_untold",
]

logger = logging.getLogger(__name__)


def stream_enabled(peer: str, stream: Stream | None = None) -> bool:
    """Whether the stream to ``peer`` runs now (``stream``: its row, if already read)."""
    if stream is None:
        stream = Stream.objects.filter(peer=peer).first()
    if stream is not None and stream.operator_enabled is not None:
        return stream.operator_enabled
    return sync_settings().stream_enabled(peer)


def stream_switch(*, peer: str, enabled: bool | None) -> Stream:
    """Turn the stream to ``peer`` on or off; ``None`` hands the choice back to settings."""
    if sync_settings().peer(peer) is None:
        raise ValueError(f"{peer!r} is not a peer of this node")
    stream, _ = Stream.objects.get_or_create(peer=peer)
    stream.operator_enabled = enabled
    stream.enabled = stream_enabled(peer, stream)
    stream.save(update_fields=["operator_enabled", "enabled"])
    return stream


def switch_tell(peer: str, *, client: ReceiverClient | None = None) -> bool:
    """Tell ``peer`` whether our stream to it runs, unless it already knows; True once it does.

    A peer that cannot be reached is logged and told by a later relay pass.
    """
    config = sync_settings()
    target = config.peer(peer)
    if target is None:
        raise ValueError(f"{peer!r} is not a peer of {config.node}")
    stream, _ = Stream.objects.get_or_create(peer=peer)
    enabled = stream_enabled(peer, stream)
    if stream.peer_told_enabled is enabled:
        return True
    client = client or ReceiverClient(
        base_url=target.url, secret=config.secret, sender=config.node, receiver=peer
    )
    try:
        client.switch(source=config.node, enabled=enabled)
    except SyncError as exc:
        logger.warning("could not tell %s the stream is %s: %s", peer, _word(enabled), exc.message)
        return False
    Stream.objects.filter(pk=stream.pk).update(peer_told_enabled=enabled)
    return True


def switch_untold(stream: Stream, *, enabled: bool) -> bool:
    """Whether the peer may not know the stream's state: it was never told of a stream
    that is off, or was last told "off" of one that is on (a receiver assumes "on")."""
    told = stream.peer_told_enabled
    return told is False if enabled else told is not False


def source_switch_record(*, source: str, enabled: bool) -> Cursor:
    """Receiver side: ``source`` says its stream here is on or off."""
    cursor, _ = Cursor.objects.get_or_create(source=source)
    if cursor.source_enabled != enabled:
        cursor.source_enabled = enabled
        cursor.save(update_fields=["source_enabled"])
    return cursor


def _word(enabled: bool) -> str:
    return "enabled" if enabled else "disabled"
