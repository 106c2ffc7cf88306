"""Reading a client's request body at the proxy, as ``strangler.proxy.body_plan`` says: whole before
any upstream is asked, else (a route that streams) passed on as it arrives; cut off when
it is too large or arrives too slowly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from strangler.proxy.body_plan import BodyPlan
from strangler.proxy.errors import ClientTooSlow, RequestRejected, RequestTooLarge
from strangler.proxy.settings import ProxySettings

__all__ = ["read_body"]


async def read_body(
    request: web.BaseRequest, settings: ProxySettings, plan: BodyPlan
) -> bytes | AsyncIterator[bytes]:
    """The body of a request that has one (``request.can_read_body``): ``bytes`` when read
    whole (within the total time limit); above ``plan.limit`` on a route that streams, an
    iterator over the rest."""
    limit = plan.limit
    length = request.content_length
    if length is not None and length > limit:
        if not plan.may_stream:
            raise _too_large_to_buffer(limit)
        return _limited_body(request, settings)
    chunks: list[bytes] = []
    size = 0
    arriving = _limited_body(request, settings)
    try:
        async with asyncio.timeout(settings.client_body_total_timeout):
            async for chunk in arriving:
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:  # a chunked body that outgrew the buffer
                    if not plan.may_stream:
                        raise _too_large_to_buffer(limit)
                    return _chained(chunks, arriving)
    except TimeoutError:
        raise ClientTooSlow(
            f"The body did not arrive within {settings.client_body_total_timeout:g} s."
        ) from None
    return b"".join(chunks)


async def _limited_body(request: web.BaseRequest, settings: ProxySettings) -> AsyncIterator[bytes]:
    """The request body as it arrives, cut off when too large or too slow; the upstream
    client passes the failure on to the caller."""
    received = 0
    while True:
        try:
            async with asyncio.timeout(settings.client_body_timeout):
                chunk = await request.content.readany()
        except TimeoutError:
            problem: RequestRejected = ClientTooSlow(
                f"No body bytes arrived for {settings.client_body_timeout:g} s."
            )
        else:
            if not chunk:
                return
            received += len(chunk)
            if received <= settings.max_body_bytes:
                yield chunk
                continue
            problem = RequestTooLarge(f"The body is larger than {settings.max_body_bytes} bytes.")
        raise problem


def _too_large_to_buffer(limit: int) -> RequestTooLarge:
    return RequestTooLarge(
        f"The body is larger than {limit} bytes, the most this route takes; send a smaller "
        "one (routes that take uploads say stream_request_body: true).",
        code="body_too_large_to_buffer",
    )


async def _chained(first: list[bytes], rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in first:
        yield chunk
    async for chunk in rest:
        yield chunk
