"""The public port's connection layer: what a client may do before its request is routed.

aiohttp's ``RequestHandler`` reads requests with the limits of a server that trusts its
clients: an idle connection lives an hour (3630 s), a head may trickle in for as long, may
be ~1 MB (128 lines of 8 KB), any number of connections is accepted, and a parse error is
answered in plain text with a traceback in the log. In front of production the proxy keeps
nginx's edge instead (``docs/proxy.md``, "Limits at the edge"; the defaults and why in
``strangler.proxy.edge_limits``):

- a header-read timeout: a head must be complete this long after its first byte (or after
  the connection opened); else ``408 header_timeout`` and the connection is closed;
- a keep-alive idle timeout: a connection waiting this long for its next request is closed;
- a cap on client connections per worker: at the cap the connection that has waited longest
  for a request is closed to make room (nginx reuses its idle connections the same way), and
  a new one is refused (``503 too_many_connections``) only when every one is busy;
- caps on the head: line length, field count and total size (``414``, ``431``);
- HTTP/1.0 and HTTP/1.1 only (``505``);
- a chunked request ends its connection: aiohttp's C parser carries the last trailer field
  of a chunked body into the next request on the connection (``SCRIPT_NAME: /x`` after
  ``0\\r\\n`` became a header of the next request), so no next request is read after one.

The cap lives in ``strangler.proxy.edge_connections``, the rules over a head in
``strangler.proxy.edge_refusals``.

Three attributes of aiohttp's handler are read: ``_request_count`` (requests parsed on the
connection), ``_waiter`` (set while it waits for the next request) and ``_force_close``;
tests/proxy/test_edge.py and test_server.py (uvloop) pin the behaviour built on them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, cast

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http import RawRequestMessage
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

from strangler.proxy import metrics
from strangler.proxy.edge_connections import ConnectionCap
from strangler.proxy.edge_limits import MAX_HEADER_LINE_BYTES, MAX_REQUEST_LINE_BYTES, EdgeLimits
from strangler.proxy.edge_refusals import RefusedRequest, check_head, head_too_large, parse_error
from strangler.proxy.error_response import error_response, raw_error_response
from strangler.proxy.errors import ClientTooSlow, ProxyError, TooManyConnections

__all__ = ["EdgeServer"]

logger = logging.getLogger(__name__)

# Why a connection's timer runs: the next request's head, or nothing yet (idle).
_HEAD, _IDLE = "header_timeout", "keepalive_timeout"


class EdgeHandler(RequestHandler):
    """aiohttp's request handler with the edge's timeouts and head limits."""

    __slots__ = (
        "_clock",
        "_connections",
        "_deadline",
        "_head_bytes",
        "_limits",
        "_reason",
        "_small_until",
        "_taken",
        "_timer",
        "waiting_since",
    )

    def __init__(
        self, manager: EdgeServer, *, limits: EdgeLimits, connections: ConnectionCap, **kwargs: Any
    ) -> None:
        super().__init__(manager, **kwargs)
        self._clock = asyncio.get_running_loop()
        self._limits = limits
        self._connections = connections
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0
        self._reason: str | None = None  # None: a request is being served
        self.waiting_since = 0.0
        self._head_bytes = 0  # of the head being read, while waiting for it
        self._taken = 0  # requests handed to the proxy so far
        self._small_until = 0  # requests up to this one are known to fit max_header_bytes

    # --- timers: one handle per connection, moved only when a deadline comes earlier ---

    def _expect(self, reason: str, seconds: float) -> None:
        now = self._clock.time()
        self._reason, self._deadline = reason, now + seconds
        if reason is _IDLE:
            self.waiting_since = now
            self._connections.waited(self)
        timer = self._timer
        if timer is None or timer.when() > self._deadline:
            if timer is not None:
                timer.cancel()
            self._timer = self._clock.call_at(self._deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self.transport is None:
            return
        now = self._clock.time()
        reason = self._reason
        if reason is not None and now >= self._deadline and self.waiting_for_request():
            metrics.CONNECTIONS_CLOSED.labels(reason).inc()
            if reason is _HEAD and self._head_bytes:
                error = ClientTooSlow(
                    f"The request head was not complete within {self._limits.header_timeout:g} s.",
                    code="header_timeout",
                )
                self.end(error)
            else:
                self.end(None)
            return
        # Not due yet, or busy (a request in flight, the rest of a body being read): look
        # again at the deadline, or a keep-alive period later.
        when = self._deadline if now < self._deadline else now + self._limits.keepalive_timeout
        self._timer = self._clock.call_at(when, self._on_timer)

    def waiting_for_request(self) -> bool:
        waiter = self._waiter
        if waiter is None:  # busy, or (uvloop) the first bytes came before aiohttp waits
            return self._request_count == 0 and not self._force_close
        return not waiter.done()

    def end(self, error: ProxyError | None) -> None:
        """Close the connection, after ``error`` as a response when given."""
        if self.transport is not None and error is not None:
            self.transport.write(raw_error_response(error))
        self.force_close()  # a transport's close() still sends what it buffered

    # --- aiohttp's hooks ---

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if not self._connections.admit(self):
            self.end(TooManyConnections("The proxy is at its connection limit; retry shortly."))
            return
        # As nginx: the first head is timed from the connection's opening.
        self._expect(_HEAD, self._limits.header_timeout)
        self.waiting_since = self._clock.time()  # admitted last: already last in the order

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._connections.release(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self.waiting_for_request():  # a body, or a head pipelined behind a request
            super().data_received(data)
            return
        if self._reason is not _HEAD:  # the first bytes of the next request
            self._head_bytes = 0
        parsed = self._request_count
        self._head_bytes += len(data)
        super().data_received(data)
        if self._request_count != parsed:
            self._reason = None
            if self._head_bytes <= self._limits.max_header_bytes:
                self._small_until = self._request_count
            self._head_bytes = 0
        elif self._head_bytes > self._limits.max_header_bytes + MAX_REQUEST_LINE_BYTES:
            # (with the request line: a head sent whole is measured without it, exactly)
            metrics.CONNECTIONS_CLOSED.labels("header_too_large").inc()
            self.end(head_too_large(self._limits))
        elif self._reason is not _HEAD:  # a head begun and not complete: now it is timed
            self._expect(_HEAD, self._limits.header_timeout)

    async def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        answered = await super().finish_response(request, resp, start_time)
        self._expect(_IDLE, self._limits.keepalive_timeout)
        return answered

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # Parse errors come as 400 with aiohttp's exception; the handler's own as 500.
        if status != HTTPStatus.BAD_REQUEST or not isinstance(exc, HttpProcessingError):
            return super().handle_error(request, status, exc, message)
        error = parse_error(
            exc,
            max_line_size=self.max_line_size,
            max_field_size=self.max_field_size,
            max_headers=self.max_headers,
        )
        logger.debug("refused an unparseable request from %s: %s", request.remote, exc.message)
        metrics.EDGE_REFUSALS.labels(error.code).inc()
        return error_response(error, close=True)

    def next_request_fits(self) -> bool:
        """Whether the request handed over now is known to fit ``max_header_bytes`` from the
        bytes it arrived in; when not, its headers are measured."""
        self._taken += 1
        return self._taken <= self._small_until


class EdgeServer(web.Server):
    """aiohttp's low-level server with ``EdgeHandler`` connections."""

    def __init__(
        self,
        handler: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]],
        *,
        limits: EdgeLimits,
        **kwargs: Any,
    ) -> None:
        super().__init__(handler, request_factory=self._request, **kwargs)
        self._event_loop = asyncio.get_running_loop()
        self._limits = limits
        self._edge_connections = ConnectionCap(limits.max_connections)
        self._handler_options = {
            **kwargs,
            "max_line_size": MAX_REQUEST_LINE_BYTES,
            "max_field_size": MAX_HEADER_LINE_BYTES,
            "max_headers": limits.max_headers,
            # A backstop only: the edge's own timers close first.
            "keepalive_timeout": limits.keepalive_timeout + limits.header_timeout + 1,
        }

    def __call__(self) -> RequestHandler:
        return EdgeHandler(
            self,
            loop=self._event_loop,
            limits=self._limits,
            connections=self._edge_connections,
            **self._handler_options,
        )

    def _request(
        self,
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
    ) -> web.BaseRequest:
        edge = cast(EdgeHandler, protocol)  # (EdgeServer makes only these)
        fits = edge.next_request_fits()  # (counted for every request, to stay in step)
        message, problem = check_head(message, fits=fits, limits=self._limits)
        if problem is None:
            return web.BaseRequest(message, payload, protocol, writer, task, self._event_loop)
        refused = RefusedRequest(message, payload, protocol, writer, task, self._event_loop)
        refused.problem = problem
        return refused
