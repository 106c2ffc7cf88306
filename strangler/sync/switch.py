"""Whether a stream runs: the registration's ``enabled``, unless an operator chose otherwise.

A migration plan's cutover turns the service's stream back to the monolith on, and a
rollback turns it off again, at run time (``sync_stream``); the choice is kept in the
stream's row until cleared, and then the registration decides again.
"""

from __future__ import annotations

from strangler.sync.config import sync_settings
from strangler.sync.models import Stream

__all__ = ["stream_enabled", "stream_switch"]


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
