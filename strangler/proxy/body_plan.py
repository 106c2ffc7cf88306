"""What the proxy may do with one request's body, by its route: pure, no sockets.

A body is read whole at the proxy before any upstream is asked, up to ``limit`` bytes (as
nginx buffers, so a slow client ties up the proxy only, never a worker of the monolith);
a larger one passes through as it arrives when the route streams request bodies
(``may_stream``, for uploads), else it is refused with 413. Only a body read whole can be
sent a second time: to a fallback after the primary failed, or to a shadow, which gets a
copy only up to the route's ``shadow.max_body_bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass

from strangler.proxy.routing import CompiledRoute
from strangler.proxy.upstream_client import Body

__all__ = ["BodyPlan", "plan_body"]


# Not frozen: one is made a request (a frozen dataclass takes four times as long to make).
@dataclass(slots=True)
class BodyPlan:
    limit: int  # bytes read whole before any upstream is asked
    may_stream: bool  # a larger body streams through; without it, it is refused (413)
    shadow_limit: int  # the largest body copied to a shadow

    @staticmethod
    def replayable(body: Body) -> bool:
        """Whether ``body`` (as read: ``bytes`` whole, an iterator streamed) may be sent
        again after an upstream failed: none at all, or read whole."""
        return body is None or isinstance(body, bytes)

    def shadowable(self, body: Body) -> bool:
        """Whether a shadow may get a copy of ``body``."""
        return body is None or (isinstance(body, bytes) and len(body) <= self.shadow_limit)


def plan_body(route: CompiledRoute | None, *, buffer_bytes: int) -> BodyPlan:
    """The plan for a body on ``route`` (``None``: no route matched), ``buffer_bytes`` the
    proxy's buffer (``PROXY_BODY_BUFFER_BYTES``)."""
    if route is None:
        return BodyPlan(limit=buffer_bytes, may_stream=False, shadow_limit=0)
    config = route.config
    return BodyPlan(
        limit=buffer_bytes,
        may_stream=config.stream_request_body,
        shadow_limit=config.shadow.max_body_bytes,
    )
