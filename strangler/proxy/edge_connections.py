"""The cap on a worker's client connections (``PROXY_MAX_CONNECTIONS``): at the cap the
connection that has waited longest for a request is closed to make room, as nginx reuses
its idle connections; a new one is refused only when every one is busy."""

from __future__ import annotations

from typing import Protocol

from strangler.proxy import metrics
from strangler.proxy.errors import ProxyError

__all__ = ["CappedConnection", "ConnectionCap"]


class CappedConnection(Protocol):
    """A client connection as the cap sees it (``strangler.proxy.edge.EdgeHandler``)."""

    def waiting_for_request(self) -> bool: ...

    def end(self, error: ProxyError | None) -> None: ...


class ConnectionCap:
    """This worker's open client connections, for the cap."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        # Insertion-ordered: by when each connection last began to wait for a request.
        self._open: dict[CappedConnection, None] = {}

    def admit(self, handler: CappedConnection) -> bool:
        """Room for ``handler``: at the cap, the connection waiting longest for a request
        is closed; ``False`` when every one is busy."""
        if len(self._open) >= self._limit:
            # Oldest wait first (``waited`` keeps the order), so under a flood of idle or
            # half-sent connections the victim is the first one looked at: O(1) a connection
            # where a scan of all of them cost 0.5 ms at 1,024 (bench/bench_slowloris.py).
            victim = next((h for h in self._open if h.waiting_for_request()), None)
            if victim is None:
                metrics.CONNECTIONS_CLOSED.labels("refused").inc()
                return False
            metrics.CONNECTIONS_CLOSED.labels("evicted").inc()
            self.release(victim)
            victim.end(None)
        self._open[handler] = None
        metrics.CLIENT_CONNECTIONS.inc()
        return True

    def waited(self, handler: CappedConnection) -> None:
        """``handler`` starts waiting for a request now: it goes last in the eviction order."""
        if self._open.pop(handler, 0) is None:
            self._open[handler] = None

    def release(self, handler: CappedConnection) -> None:
        if self._open.pop(handler, 0) is None:
            metrics.CLIENT_CONNECTIONS.dec()
