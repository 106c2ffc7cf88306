"""An upstream's answer as the lean client hands it over: the head at once, the body as it
arrives. ``release()`` it when done, whatever happened: a connection returns to its pool
only from there."""

from __future__ import annotations

from typing import Protocol

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = ["UpstreamResponse"]

_CHARSET, _ERRORS = "utf-8", "surrogateescape"


class _Body(Protocol):
    @property
    def buffered(self) -> int: ...

    def read_nowait(self) -> bytes | None: ...

    async def read_chunk(self) -> bytes: ...

    async def read_all(self) -> bytes: ...

    def release(self) -> None: ...


class UpstreamResponse:
    __slots__ = ("_body", "_headers", "content_length", "raw_headers", "reason", "status")

    def __init__(
        self,
        status: int,
        reason: str,
        raw_headers: list[tuple[bytes, bytes]],
        content_length: int | None,
        body: _Body,
    ) -> None:
        self.status = status
        self.reason = reason
        # As received: names in their case, values undecoded; the cheap form to filter.
        self.raw_headers = raw_headers
        # None for a chunked body or one that ends when the connection does.
        self.content_length = content_length
        self._body = body
        self._headers: CIMultiDictProxy[str] | None = None

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """The headers decoded as aiohttp decodes them (UTF-8, undecodable bytes kept)."""
        if self._headers is None:
            self._headers = CIMultiDictProxy(
                CIMultiDict(
                    (
                        name.decode("utf-8", "surrogateescape"),
                        value.decode("utf-8", "surrogateescape"),
                    )
                    for name, value in self.raw_headers
                )
            )
        return self._headers

    async def read(self) -> bytes:
        """The whole body; for answers known to be small (the caller checks the length)."""
        return await self._body.read_all()

    @property
    def buffered(self) -> int:
        """Body bytes arrived and not yet read (flow control bounds them)."""
        return self._body.buffered

    def read_nowait(self) -> bytes | None:
        """The whole body if it has all arrived already, else ``None`` (then ``read()``)."""
        return self._body.read_nowait()

    async def read_chunk(self) -> bytes:
        """The next bytes of the body as they arrived; ``b""`` at its end."""
        return await self._body.read_chunk()

    def release(self) -> None:
        self._body.release()

    def __repr__(self) -> str:
        return f"<UpstreamResponse {self.status} {self.reason!r}>"
