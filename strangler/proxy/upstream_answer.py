"""The answer side of an upstream connection: llhttp (``httptools``) parses the bytes as they
arrive, and the body is handed over chunk by chunk, never held whole.

Why llhttp: aiohttp's own C response parser was measured too: 5.4 us per 1 KiB answer
against httptools' 1.4 us, and it feeds aiohttp's ``StreamReader``, which adds its own cost.

Flow control: past ``READ_HIGH_WATER`` buffered bytes the socket stops being read until the
reader is below ``READ_LOW_WATER`` (TCP then slows the upstream down), so a large answer to a
slow client holds at most that much here, whatever its size.
"""

from __future__ import annotations

import asyncio
from collections import deque

import httptools

from strangler.proxy.errors import UpstreamBroken, UpstreamError
from strangler.proxy.upstream_response import UpstreamResponse

__all__ = ["READ_HIGH_WATER", "READ_LOW_WATER", "AnswerParser"]

# Body bytes held for a slow reader before the socket stops being read: four of uvloop's
# 64 KiB reads, so a reader that keeps up never stalls the upstream, and one that does not
# holds at most this (plus one read) in memory whatever the body's size.
READ_HIGH_WATER = 256 * 1024
READ_LOW_WATER = 64 * 1024
_NO_BODY = frozenset({204, 304})


class _HeadAnswered(Exception):
    """Raised from the headers callback to end a HEAD answer (no body follows)."""


class _Switched(Exception):
    """Raised from the headers callback on 101: the bytes after it are not HTTP."""


class AnswerParser:
    """Parses one answer at a time and keeps its body for the reader. The connection
    (``UpstreamConnection``) says when an answer is expected and how to pause its socket."""

    _head_waiter: asyncio.Future[UpstreamResponse] | None

    def __init__(self, name: str, loop: asyncio.AbstractEventLoop) -> None:
        self.name = name
        self._loop = loop
        self._parser = httptools.HttpResponseParser(self)
        self._chunks: deque[bytes] = deque()  # the body as it arrived, not yet read
        self._reset_answer(is_head=False)

    def _expect(self, *, is_head: bool) -> asyncio.Future[UpstreamResponse]:
        """A new answer is due: its head resolves the returned future."""
        self._reset_answer(is_head=is_head)
        waiter: asyncio.Future[UpstreamResponse] = self._loop.create_future()
        self._head_waiter = waiter
        return waiter

    def _reset_answer(self, *, is_head: bool) -> None:
        self._head_waiter = None  # no answer expected
        self._is_head = is_head
        self._interim = False
        self._reason = b""
        self._raw_headers: list[tuple[bytes, bytes]] = []
        self._until_eof = False
        self._keep_alive = False
        self._error: UpstreamError | None = None
        self._chunks.clear()
        self._buffered = 0
        self._body_done = False
        self._body_waiter: asyncio.Future[None] | None = None
        self._reading_paused = False

    # The connection's part: its socket, and what becomes of it when the caller is done.
    def _pause_reading(self) -> None:
        raise NotImplementedError

    def _resume_reading(self) -> None:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def _feed(self, data: bytes) -> UpstreamError | None:
        """Parse ``data``; the error to end the exchange with, if it is not HTTP we take."""
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _Switched):
                return UpstreamBroken(f"{self.name} switched protocols unasked.")
            if not isinstance(exc.__context__, _HeadAnswered):
                return UpstreamBroken(f"{self.name} sent an answer we could not handle.")
        except httptools.HttpParserError as exc:
            return UpstreamBroken(f"{self.name} sent invalid HTTP: {exc}")
        return None

    # --- reading the body --------------------------------------------------------------------

    @property
    def buffered(self) -> int:
        """Body bytes received and not yet read: bounded by flow control."""
        return self._buffered

    async def read_chunk(self) -> bytes:
        """The next body bytes as they arrived; ``b""`` at the end of the body."""
        chunks = self._chunks
        while not chunks:
            if self._error is not None:
                raise self._error
            if self._body_done:
                return b""
            waiter = self._body_waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._body_waiter = None
        chunk = chunks.popleft()
        self._buffered -= len(chunk)
        if self._reading_paused and self._buffered <= READ_LOW_WATER:
            self._reading_paused = False
            self._resume_reading()
        return chunk

    def read_nowait(self) -> bytes | None:
        """The whole body if all of it has arrived (the usual case: it came with the head),
        else ``None``; without a coroutine, which costs as much as the rest of this."""
        if self._body_done and self._error is None:
            data = b"".join(self._chunks)
            self._chunks.clear()
            self._buffered = 0
            return data
        return None

    async def read_all(self) -> bytes:
        data = self.read_nowait()
        if data is not None:
            return data
        parts = []
        while chunk := await self.read_chunk():
            parts.append(chunk)
        return b"".join(parts)

    def _wake_body(self) -> None:
        waiter = self._body_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- parser callbacks (httptools) ------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._body_done:
            # A second answer in the bytes of the first: the stream is out of step with
            # our requests, so the connection must not serve another one.
            self._keep_alive = False
        self._reason = b""
        self._raw_headers = []

    def on_status(self, status: bytes) -> None:
        self._reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status == 101:
            raise _Switched  # upgrades take the WebSocket path (aiohttp), never this one
        if status < 200:
            # 100 Continue, 103 Early Hints: interim answers, the real one follows.
            self._interim = True
            return
        length: int | None = None
        chunked = False
        for name, value in self._raw_headers:
            if len(name) == 14 and name.lower() == b"content-length":
                length = int(value)  # llhttp has checked it is one valid number
            elif len(name) == 17 and name.lower() == b"transfer-encoding":
                chunked = b"chunked" in value.lower()  # else: the body ends with the connection
        no_body = self._is_head or status in _NO_BODY
        self._until_eof = not (no_body or chunked or length is not None)
        response = UpstreamResponse(
            status,
            self._reason.decode("latin-1"),
            self._raw_headers,
            None if chunked else length,
            self,
        )
        waiter = self._head_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(response)
        if self._is_head:
            # llhttp cannot be told the request was HEAD and would wait for a body of
            # Content-Length bytes; stop the parse here and never reuse the connection.
            self._body_done = True
            raise _HeadAnswered

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > READ_HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            self._pause_reading()
        self._wake_body()

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        self._body_done = True
        self._keep_alive = self._parser.should_keep_alive()
        self._wake_body()
