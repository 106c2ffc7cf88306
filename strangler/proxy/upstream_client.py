"""The proxy's client to one upstream: a pool of keep-alive connections and the request head.

``request()`` writes the head (and a small body) in one write on an idle connection, or a new
one while the pool has room, or waits for one to come back; it returns once the answer's head
has arrived. Errors are the proxy's own (``strangler.proxy.errors``), so the caller maps them once:

- ``UpstreamUnreachable``: no connection could be made (refused, unresolvable);
- ``UpstreamTimeout``: connect, read (silence between bytes) or total timeout;
- ``UpstreamBroken``: the connection closed or spoke invalid HTTP mid-exchange;
- anything the request body raises (the client's own failure) passes through unchanged.

An idempotent request whose reused connection turns out to have been closed by the
upstream while idle is sent once more on a fresh connection (aiohttp does the same).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterable, Iterable
from urllib.parse import urlsplit

from strangler.proxy.config import Timeouts
from strangler.proxy.errors import UpstreamNotAccepted, UpstreamUnreachable
from strangler.proxy.upstream_connection import StaleConnection, UpstreamConnection
from strangler.proxy.upstream_response import UpstreamResponse

__all__ = ["IDLE_SECONDS", "TIMEOUT_TICK_SECONDS", "Body", "UpstreamClient"]

Body = bytes | AsyncIterable[bytes] | None

# An idle connection older than this is closed rather than reused: below the keep-alive
# timeouts of nginx (75 s) and aiohttp (75 s), like aiohttp's own client (15 s), so the
# upstream rarely closes one just as we send on it (and when it does, we retry).
IDLE_SECONDS = 15.0
# Timeouts (read, total) are checked this often, in one sweep over the pool's connections,
# rather than each on a timer of its own: a timer armed and cancelled per request cost ~3 %
# of the proxy's CPU (profiled). A timeout so fires up to this late.
TIMEOUT_TICK_SECONDS = 0.05
_RETRYABLE = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
# Methods whose empty body is still announced: some servers refuse them without a length.
_EXPECT_BODY = frozenset({"POST", "PUT", "PATCH"})


class UpstreamClient:
    def __init__(
        self,
        name: str,
        url: str,
        *,
        pool_size: int,
        timeouts: Timeouts,
        server_hostname: str | None = None,
    ) -> None:
        """``server_hostname``: the name a TLS certificate is checked against when ``url``
        names an address (an endpoint found by DNS discovery)."""
        parts = urlsplit(url)
        self.name = name
        self.pool_size = pool_size
        self.timeouts = timeouts
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._host_header = parts.netloc.encode()
        self._ssl: ssl.SSLContext | None = (
            ssl.create_default_context() if parts.scheme == "https" else None
        )
        self._server_hostname = server_hostname if self._ssl is not None else None
        self._idle: list[UpstreamConnection] = []  # a stack: the warmest connection first
        self._open = 0  # connections open or being opened: at most pool_size
        self._waiters: deque[asyncio.Future[UpstreamConnection | None]] = deque()
        self._connections: set[UpstreamConnection] = set()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeper: asyncio.TimerHandle | None = None

    @property
    def open_connections(self) -> int:
        return self._open

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    @property
    def in_use(self) -> int:
        """Requests in flight on this pool: connections lent out (or being opened for one)
        and requests queued for one. Kept by the pool anyway, so the balancer's count of
        outstanding requests costs the request path nothing."""
        return self._open - len(self._idle) + len(self._waiters)

    @property
    def waiting(self) -> int:
        """Requests waiting for a connection of the full pool."""
        return sum(1 for waiter in self._waiters if not waiter.done())

    async def request(
        self,
        method: str,
        target: str,
        headers: Iterable[tuple[bytes, bytes]],
        body: Body = None,
    ) -> UpstreamResponse:
        """Send one request; the answer's head, its body to read, then ``release()``."""
        loop = self._loop
        if loop is None:  # a client lives in one loop; asking each time costs a getpid()
            loop = self._loop = asyncio.get_running_loop()
        head, chunked = self._head(method, target, headers, body)
        timeouts = self.timeouts
        now = loop.time()
        deadline = now + timeouts.total
        retry = method in _RETRYABLE and (body is None or isinstance(body, bytes))
        while True:
            idle = self._idle
            if idle and now - idle[-1].idle_since < IDLE_SECONDS:
                conn = idle.pop()  # the common case, without a coroutine for _acquire
                conn.take()
            else:
                conn = await self._acquire(loop, deadline)
            reused = conn.reused
            try:
                return await conn.exchange(
                    head,
                    body,
                    chunked=chunked,
                    is_head=method == "HEAD",
                    deadline=deadline,
                    read_timeout=timeouts.read,
                )
            except StaleConnection:
                conn.release()
                if not (retry and reused):
                    raise
                retry = False
            except BaseException:
                conn.release()  # failed or cancelled mid-exchange: the connection goes
                raise

    def _head(
        self, method: str, target: str, headers: Iterable[tuple[bytes, bytes]], body: Body
    ) -> tuple[bytes, bool]:
        lines = [f"{method} {target} HTTP/1.1".encode("utf-8", "surrogateescape")]
        has_host = has_length = False
        for name, value in headers:
            size = len(name)
            if size == 4:
                has_host = has_host or name.lower() == b"host"
            elif size == 14:
                has_length = has_length or name.lower() == b"content-length"
            lines.append(name + b": " + value)
        chunked = False
        if not has_host:
            lines.append(b"Host: " + self._host_header)
        if not has_length:
            if isinstance(body, bytes):
                lines.append(b"Content-Length: %d" % len(body))
            elif body is not None:
                lines.append(b"Transfer-Encoding: chunked")
                chunked = True
            elif method in _EXPECT_BODY:
                lines.append(b"Content-Length: 0")
        lines += (b"", b"")
        head = b"\r\n".join(lines)
        # Names and values come from a parsed request or from us; a line break in one would
        # split it into two headers (injection), so it is a bug and stops here.
        breaks = len(lines) - 1
        if head.count(b"\n") != breaks or head.count(b"\r") != breaks:
            raise ValueError("a header name or value contains a line break")
        return head, chunked

    # --- the pool --------------------------------------------------------------------------

    async def _acquire(
        self, loop: asyncio.AbstractEventLoop, deadline: float
    ) -> UpstreamConnection:
        idle = self._idle
        while idle:
            conn = idle.pop()
            if loop.time() - conn.idle_since < IDLE_SECONDS:
                conn.take()
                return conn
            conn.close()  # idle too long: the upstream may be about to close it
        if self._open < self.pool_size:
            self._open += 1
            return await self._connect(loop, deadline)
        waiter: asyncio.Future[UpstreamConnection | None] = loop.create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout_at(deadline):
                handed = await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._give_back(waiter.result())  # handed over just as we gave up
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise UpstreamNotAccepted(
                    f"{self.name}: all {self.pool_size} connections stayed busy until the timeout."
                ) from None
            raise
        if handed is None:  # a slot was freed for us: open a connection in it
            return await self._connect(loop, deadline)
        return handed

    async def _connect(
        self, loop: asyncio.AbstractEventLoop, deadline: float
    ) -> UpstreamConnection:
        """Open a connection in a slot already counted in ``_open``."""
        if self._closed:
            self._free_slot()
            raise UpstreamUnreachable(f"{self.name}'s pool was closed (the table changed).")
        timeout = min(self.timeouts.connect, deadline - loop.time())
        try:
            async with asyncio.timeout(timeout):
                _, conn = await loop.create_connection(
                    lambda: UpstreamConnection(self.name, loop, self._done),
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._server_hostname,
                )
        except TimeoutError:
            self._free_slot()
            raise UpstreamNotAccepted(f"{self.name} did not accept a connection in time.") from None
        except OSError as exc:
            self._free_slot()
            reason = exc.strerror or type(exc).__name__
            raise UpstreamUnreachable(f"{self.name} could not be reached: {reason}.") from exc
        except BaseException:
            self._free_slot()
            raise
        self._connections.add(conn)
        if self._sweeper is None:
            self._sweeper = loop.call_later(TIMEOUT_TICK_SECONDS, self._sweep, loop)
        return conn

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        """Time out what is overdue; runs while the pool has connections."""
        self._sweeper = None
        if self._closed or not self._connections:
            return
        now = loop.time()
        for conn in list(self._connections):
            conn.check_timeouts(now)
        self._sweeper = loop.call_later(TIMEOUT_TICK_SECONDS, self._sweep, loop)

    def _done(self, conn: UpstreamConnection, reusable: bool) -> None:
        """A connection came back: idle again, or gone (its slot is free)."""
        if reusable and not self._closed:
            while self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    conn.take()
                    waiter.set_result(conn)
                    return
            self._idle.append(conn)
            return
        if reusable:  # the client is closed: nobody will take it again
            conn.close()
            return
        if conn in self._connections:
            self._connections.discard(conn)
            if conn in self._idle:
                self._idle.remove(conn)
            self._free_slot()

    def _give_back(self, handed: UpstreamConnection | None) -> None:
        if handed is None:
            self._free_slot()
        else:
            handed.release()

    def _free_slot(self) -> None:
        self._open -= 1
        while self._waiters and not self._closed:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._open += 1
                waiter.set_result(None)
                return

    async def close(self) -> None:
        """Close every connection, idle or not: called once no request can still need it."""
        self._closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(
                    UpstreamUnreachable(f"{self.name}'s pool was closed (the table changed).")
                )
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for conn in list(self._connections):
            conn.close()  # a busy one leaves the pool when its caller releases it
