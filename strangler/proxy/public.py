"""The public port: aiohttp's low-level server handing every request to ``app.dispatch``,
behind the limits of ``strangler.proxy.edge``.

aiohttp's ``Application`` resolves each request through its router, builds a match info and
checks for middlewares; for a proxy with one catch-all route that was ~8 us of a ~150 us
request (profiled, bench/README.md). The application still owns the state and its
lifecycle (``cleanup_ctx``): an ``AppRunner`` with no site of its own starts and stops it.
"""

from __future__ import annotations

from collections.abc import Awaitable

from aiohttp import web
from aiohttp.http import HttpVersion11

from strangler.proxy.app import dispatch
from strangler.proxy.edge import EdgeServer
from strangler.proxy.edge_limits import EdgeLimits
from strangler.proxy.edge_refusals import RefusedRequest, refusal
from strangler.proxy.state import STATE, ProxyState

__all__ = ["PublicServer"]


async def _expect(request: web.BaseRequest) -> None:
    """What aiohttp's router does for ``Expect``: ``100-continue`` is answered at once, so
    the client sends its body; any other expectation is refused (417)."""
    expectation = request.headers.get("Expect", "")
    if request.version == HttpVersion11:
        if expectation.lower() != "100-continue":
            raise web.HTTPExpectationFailed(text=f"Unknown Expect: {expectation}")
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the interim answer is not part of the response


async def _expect_then(request: web.BaseRequest, state: ProxyState) -> web.StreamResponse:
    await _expect(request)
    return await dispatch(request, state)


class PublicServer:
    """Serves ``app`` (from ``build_app``) on one address until ``stop``."""

    def __init__(self, app: web.Application, *, shutdown_timeout: float) -> None:
        self.app = app
        # No site: it only runs the application's startup and cleanup.
        self._lifecycle = web.AppRunner(app, handle_signals=False)
        self._shutdown_timeout = shutdown_timeout
        self._runner: web.ServerRunner | None = None

    async def start(self, host: str, port: int, *, reuse_port: bool = False) -> None:
        await self._lifecycle.setup()
        state = self.app[STATE]

        settings = state.settings

        def handler(request: web.BaseRequest) -> Awaitable[web.StreamResponse]:
            if request.__class__ is RefusedRequest:  # (one identity test a request)
                return refusal(request)
            if request.headers.get("Expect"):
                return _expect_then(request, state)
            return dispatch(request, state)  # the coroutine that answers, awaited by aiohttp

        limits = EdgeLimits(
            header_timeout=settings.header_timeout,
            keepalive_timeout=settings.keepalive_timeout,
            max_connections=settings.max_connections,
            max_header_bytes=settings.max_header_bytes,
            max_headers=settings.max_headers,
        )
        self._runner = web.ServerRunner(
            EdgeServer(handler, limits=limits, access_log=None),
            handle_signals=False,
            shutdown_timeout=self._shutdown_timeout,
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port, reuse_port=reuse_port).start()

    @property
    def port(self) -> int:
        """The port bound (useful when asked for port 0)."""
        assert self._runner is not None, "start() first"
        return int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish, then run the app's cleanup."""
        if self._runner is not None:
            await self._runner.cleanup()
        await self._lifecycle.cleanup()
