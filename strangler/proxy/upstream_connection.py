"""One keep-alive connection to an upstream: an asyncio Protocol that writes a request and
hands the answer over as it arrives (parsing and body: ``strangler.proxy.upstream_answer``).

Why not aiohttp's ``ClientSession`` here: profiled, it took ~160 us of CPU per proxied
request, more than half the proxy's total; this takes a few (one write, one parse, one
future). One exchange at a time. A connection goes back to its pool only after a complete
answer that allows keep-alive; anything partial, failed or timed out closes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Callable
from typing import cast

from strangler.proxy.errors import UpstreamBroken, UpstreamError, UpstreamTimeout
from strangler.proxy.upstream_answer import AnswerParser
from strangler.proxy.upstream_response import UpstreamResponse

__all__ = ["StaleConnection", "UpstreamConnection"]


class StaleConnection(UpstreamBroken):
    """A reused keep-alive connection closed before any byte of the answer: the upstream
    closed it while idle, so an idempotent request may be sent again on a fresh one."""


class UpstreamConnection(AnswerParser, asyncio.Protocol):
    """The client end of one TCP connection; ``exchange`` sends a request and returns the
    answer's head, the body follows through the returned ``UpstreamResponse``."""

    def __init__(
        self,
        name: str,
        loop: asyncio.AbstractEventLoop,
        on_done: Callable[[UpstreamConnection, bool], None],
    ) -> None:
        super().__init__(name, loop)
        self.reused = False  # has answered a request before: may have gone stale while idle
        self.closed = False
        self.idle_since = 0.0
        self._on_done = on_done  # (connection, reusable): back to the pool, or gone
        self._transport: asyncio.Transport | None = None
        # Busy: lent to one caller, who must release() it; in the pool: idle, reusable.
        # A new connection is busy: it belongs to whoever opened it.
        self._busy = True
        self._in_pool = False
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._pump: asyncio.Task[None] | None = None
        self._deadline = self._read_timeout = self._last_read = 0.0
        self._got_bytes = False  # any byte of the current answer
        self._sending = False  # a streamed request body is still going out

    # --- the exchange, driven by UpstreamClient -----------------------------------------

    def exchange(
        self,
        head: bytes,
        body: bytes | AsyncIterable[bytes] | None,
        *,
        chunked: bool,
        is_head: bool,
        deadline: float,
        read_timeout: float,
    ) -> asyncio.Future[UpstreamResponse]:
        """Send the request; the future resolves with the answer's head. (A plain function
        returning the future: one coroutine fewer per request.)"""
        transport = self._transport
        if self.closed or transport is None:
            raise StaleConnection(f"{self.name} closed an idle connection.")
        assert self._busy, "take() the connection first"
        waiter = self._expect(is_head=is_head)
        self._deadline, self._read_timeout = deadline, read_timeout
        self._got_bytes = self._sending = False
        self._last_read = self._loop.time()
        if body is None:
            transport.write(head)
        elif isinstance(body, bytes):
            transport.write(head + body)  # one write, one packet for a small request
        else:
            transport.write(head)
            self._sending = True
            self._pump = self._loop.create_task(self._send_body(body, chunked))
        return waiter

    async def _send_body(self, body: AsyncIterable[bytes], chunked: bool) -> None:
        transport = self._transport
        assert transport is not None
        try:
            async for chunk in body:
                if self.closed:
                    return
                if not chunk:
                    continue
                if chunked:
                    transport.writelines((b"%x\r\n" % len(chunk), chunk, b"\r\n"))
                else:
                    transport.write(chunk)
                if self._write_paused:
                    await self._drain()
            if chunked and not self.closed:
                transport.write(b"0\r\n\r\n")
        except ConnectionError:
            return  # the connection is gone; connection_lost has failed the exchange
        except Exception as exc:  # the request body's own failure (RequestRejected), passed on
            # The client's body failed (too large, too slow): the upstream has half a
            # request, so the connection cannot be used again; the caller gets the reason.
            self._fail(exc)
            return
        finally:
            self._sending = False
            self._last_read = self._loop.time()

    async def _drain(self) -> None:
        waiter = self._drain_waiter = self._loop.create_future()
        try:
            await waiter
        finally:
            self._drain_waiter = None

    def take(self) -> None:
        """The pool lends this idle connection to a caller."""
        self._busy = True
        self._in_pool = False

    def release(self) -> None:
        """The caller is done with the answer: keep the connection only if it is clean."""
        if not self._busy:
            return
        self._busy = False
        if self._pump is not None and not self._pump.done():
            self._pump.cancel()
            self._keep_alive = False
        self._pump = None
        reusable = self._body_done and self._keep_alive and self._error is None and not self.closed
        if reusable:
            self.reused = True
            self.idle_since = self._loop.time()
            self._head_waiter = None
            self._in_pool = True
            self._on_done(self, True)
        else:
            self._shut()
            self._on_done(self, False)

    def close(self) -> None:
        """Close now; an idle connection leaves its pool, a busy one at its release()."""
        self._shut()
        if self._in_pool:
            self._in_pool = False
            self._on_done(self, False)

    def _shut(self) -> None:
        if not self.closed:
            self.closed = True
            if self._transport is not None:
                self._transport.abort()

    # --- timeouts ------------------------------------------------------------------------

    def check_timeouts(self, now: float) -> None:
        """Called by the pool every few tenths of a second (one sweep over its connections
        instead of a timer per request, which cost ~3 % of the proxy's CPU, profiled)."""
        if self._head_waiter is None or self._body_done or self._error is not None:
            return  # idle, or the answer is all in: nothing left to wait for
        if now >= self._deadline:
            self._fail(UpstreamTimeout(f"{self.name} did not answer within its total timeout."))
        elif self._reading_paused or self._sending:
            # Waiting on our side (a slow client reading or uploading) is not the upstream's.
            self._last_read = now
        elif now - self._last_read >= self._read_timeout:
            self._fail(UpstreamTimeout(f"{self.name} sent nothing for {self._read_timeout:g} s."))

    def _fail(self, error: BaseException) -> None:
        """End the exchange with ``error``: the waiting caller gets it, the socket goes."""
        if not isinstance(error, UpstreamError):
            # Not the upstream's failure (the client's body): hand it to the caller as is.
            if self._head_waiter is not None and not self._head_waiter.done():
                self._head_waiter.set_exception(error)
            error = UpstreamBroken(f"the request to {self.name} was abandoned.")
        if self._error is None:
            self._error = error
        if self._head_waiter is not None and not self._head_waiter.done():
            self._head_waiter.set_exception(error)
        self._wake_body()
        self.close()

    def _pause_reading(self) -> None:
        if self._transport is not None:
            self._transport.pause_reading()

    def _resume_reading(self) -> None:
        self._last_read = self._loop.time()  # the read timeout counts from here again
        if self._transport is not None:
            self._transport.resume_reading()

    # --- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio.Transport, only alike.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._head_waiter is None or self._error is not None:
            # Bytes nobody asked for (after a complete answer): the stream is out of step.
            self._fail(UpstreamBroken(f"{self.name} sent bytes outside an answer."))
            return
        if self._body_done:
            # Bytes after a complete answer (a HEAD answer's body, a second answer): the
            # stream is out of step with our requests; the connection goes at release.
            self._keep_alive = False
            return
        self._got_bytes = True
        self._last_read = self._loop.time()
        error = self._feed(data)
        if error is not None:
            self._fail(error)

    def eof_received(self) -> bool:
        return False  # close our side too; connection_lost settles the exchange

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_exception(ConnectionResetError("upstream connection lost"))
        if self._head_waiter is None:  # idle: closed by the upstream (keep-alive timeout)
            self.close()
            return
        if self._head_waiter is not None and not self._head_waiter.done():
            if self.reused and not self._got_bytes:
                self._fail(StaleConnection(f"{self.name} closed an idle connection."))
            else:
                self._fail(UpstreamBroken(f"{self.name} closed the connection before answering."))
        elif not self._body_done:
            if self._until_eof:
                self._body_done = True  # a body delimited by the end of the connection
                self._wake_body()
            else:
                self._fail(UpstreamBroken(f"{self.name} closed the connection mid-body."))
        self._shut()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)
