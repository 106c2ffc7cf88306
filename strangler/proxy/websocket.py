"""WebSocket upgrades, passed through to the upstream the decision chose (to one of its
endpoints, as the balancer picks it)."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import WSMsgType, web
from multidict import CIMultiDict
from yarl import URL

from strangler.proxy.errors import UpstreamError
from strangler.proxy.upstreams import Upstream

__all__ = ["is_websocket_upgrade", "relay_websocket"]

# aiohttp's ws_connect writes its own handshake; the client's copies would conflict with it.
_HANDSHAKE = (
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Extensions",
    "Sec-WebSocket-Protocol",
)


def is_websocket_upgrade(request: web.BaseRequest) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket" and request.method == "GET"


async def _pump(
    source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    sink: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> None:
    async for message in source:
        if message.type == WSMsgType.TEXT:
            await sink.send_str(message.data)
        elif message.type == WSMsgType.BINARY:
            await sink.send_bytes(message.data)
        elif message.type == WSMsgType.PING:
            await sink.ping(message.data)
        elif message.type == WSMsgType.PONG:
            await sink.pong(message.data)
    await sink.close(code=source.close_code or aiohttp.WSCloseCode.OK)


async def relay_websocket(
    request: web.BaseRequest, upstream: Upstream, target: str, headers: CIMultiDict[str]
) -> web.WebSocketResponse:
    for name in _HANDSHAKE:
        headers.popall(name, None)
    protocols = [
        p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()
    ]
    endpoint = upstream.only or await upstream.endpoint()
    try:
        upstream_ws = await upstream.session.ws_connect(
            URL(endpoint.base_url + target, encoded=True),
            server_hostname=endpoint.server_hostname,
            headers=headers,
            protocols=protocols,
            autoping=False,
            # The session's total timeout is for request/response exchanges; a socket may
            # stay open as long as both ends want it.
            timeout=aiohttp.ClientWSTimeout(ws_close=10.0),
        )
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise UpstreamError(f"{upstream.name} refused the WebSocket upgrade: {exc}") from exc
    chosen = [upstream_ws.protocol] if upstream_ws.protocol else []
    client_ws = web.WebSocketResponse(protocols=chosen, autoping=False)
    await client_ws.prepare(request)
    try:
        await asyncio.gather(_pump(client_ws, upstream_ws), _pump(upstream_ws, client_ws))
    finally:
        await upstream_ws.close()
    return client_ws
