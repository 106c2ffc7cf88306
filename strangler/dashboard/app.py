"""The dashboard's web application: the page, its JSON, its server-sent events, the login.

Routes::

    GET  /               the page (static/index.html; app.js and app.css beside it)
    GET  /api/overview   the document (gzipped when the client accepts it)
    GET  /events         server-sent events: ``overview`` (the whole document) first, then a
                         ``patch`` per change; a comment every KEEP_ALIVE_SECONDS
    GET  /report         the full comparison report (HTML; admin only)
    POST /login          form field ``token``: sets the session cookie
    POST /logout         clears it
    GET  /healthz        200 once the first poll is in

Every answer carries a Content-Security-Policy without inline script, nosniff and
``frame-ancestors 'none'``. A wrong bearer token is 401 ``{"code": "invalid_token"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlsplit

from aiohttp import web

from strangler.dashboard.access import COOKIE, SESSION_SECONDS, Access, Refusal
from strangler.dashboard.poller import Channel, Poller

__all__ = ["CSP", "KEEP_ALIVE_SECONDS", "DashboardConfig", "build_app"]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# The report file carries its styles inline and no script.
_REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"
)
KEEP_ALIVE_SECONDS = 15.0
# How long a request made right after start waits for the first poll before a 503.
FIRST_POLL_WAIT_SECONDS = 20.0
_STATIC = {
    "/": ("index.html", "text/html"),
    "/app.js": ("app.js", "text/javascript"),
    "/app.css": ("app.css", "text/css"),
}

POLLER = web.AppKey("poller", Poller)
ACCESS = web.AppKey("access", Access)
# The open event streams, ended at shutdown: each waits for changes forever otherwise.
STREAMS: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("streams")


@dataclass(frozen=True)
class DashboardConfig:
    """What the application needs besides the poll: the token, and the full report's source."""

    admin_token: str
    report: Callable[[], str] | None = None  # the full comparison report as HTML
    # A comment this often on an idle event stream, so that proxies in between keep it open.
    keep_alive_seconds: float = KEEP_ALIVE_SECONDS


CONFIG = web.AppKey("config", DashboardConfig)


def _static(name: str) -> bytes:
    return resources.files("strangler.dashboard").joinpath("static", name).read_bytes()


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer's security headers, set as it is prepared: the event stream's too, whose
    headers leave before its handler returns."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")


def _error(status: int, code: str, message: str) -> web.Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return web.json_response({"code": code, "message": message}, status=status, headers=headers)


def _admin(request: web.Request) -> bool | Refusal:
    return request.app[ACCESS].check(
        request.headers.get("Authorization", ""), request.cookies.get(COOKIE)
    )


def _channel(request: web.Request, admin: bool) -> Channel:
    poller = request.app[POLLER]
    return poller.admin if admin else poller.public


def _same_origin(request: web.Request) -> bool:
    """A form post from this page: an ``Origin`` naming another site is refused (the cookie
    is SameSite=Strict already; this keeps another site from logging a browser in)."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


async def _page(request: web.Request) -> web.Response:
    name, content_type = _STATIC[request.path]
    headers = {"Cache-Control": "no-cache"}
    return web.Response(
        body=_static(name), content_type=content_type, charset="utf-8", headers=headers
    )


async def _overview(request: web.Request) -> web.Response:
    admin = _admin(request)
    if isinstance(admin, Refusal):
        return _error(401, admin.code, admin.message)
    channel = _channel(request, admin)
    request.app[POLLER].want()
    if channel.document is None:  # just started: the first poll is on its way
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(request.app[POLLER].ready.wait(), FIRST_POLL_WAIT_SECONDS)
    if channel.document is None:
        return _error(503, "not_ready", "The first poll has not finished yet; retry shortly.")
    headers = {"Vary": "Authorization, Cookie, Accept-Encoding"}
    body = channel.body
    if "gzip" in request.headers.get("Accept-Encoding", ""):  # compressed once per change
        body = channel.body_gzip
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=body, content_type="application/json", headers=headers)


def _event(kind: str, data: str) -> bytes:
    return f"event: {kind}\ndata: {data}\n\n".encode()


async def _events(request: web.Request) -> web.StreamResponse:
    admin = _admin(request)
    if isinstance(admin, Refusal):
        return _error(401, admin.code, admin.message)
    poller = request.app[POLLER]
    channel = _channel(request, admin)
    headers = {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
        "Vary": "Authorization, Cookie, Accept-Encoding",
    }
    packed = "gzip" in request.headers.get("Accept-Encoding", "")
    if packed:
        headers["Content-Encoding"] = "gzip"
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    task = asyncio.current_task()
    assert task is not None
    request.app[STREAMS].add(task)
    poller.viewers += 1
    poller.want()
    try:
        keep_alive = request.app[CONFIG].keep_alive_seconds
        await _stream(_EventWriter(response, packed), poller, channel, keep_alive)
    except (asyncio.CancelledError, ConnectionResetError):
        pass
    finally:
        request.app[STREAMS].discard(task)
        poller.viewers -= 1
        poller.want()  # idle from now on only after IDLE_AFTER_SECONDS
    return response


class _EventWriter:
    """Writes events, gzipped when the client takes it: each write is flushed whole
    (``Z_SYNC_FLUSH``), so an event never waits in the compressor for the next one. The
    first event is the whole document (hundreds of kB with a thousand routes; a few kB
    gzipped); a patch is small either way."""

    def __init__(self, response: web.StreamResponse, packed: bool) -> None:
        self._response = response
        self._compressor = zlib.compressobj(5, zlib.DEFLATED, 31) if packed else None

    async def write(self, data: bytes) -> None:
        if self._compressor is not None:
            data = self._compressor.compress(data) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        await self._response.write(data)


async def _stream(
    response: _EventWriter, poller: Poller, channel: Channel, keep_alive: float
) -> None:
    await response.write(b"retry: 2000\n\n")
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(poller.ready.wait(), keep_alive)
    seen = 0
    while True:
        if channel.version > seen:
            # Read and encode with no await in between: the version and its bytes agree.
            patches = channel.patches_after(seen) if seen else None
            if patches is None:
                chunk = _event("overview", channel.body.decode())
            else:
                chunk = b"".join(_event("patch", p) for p in patches)
            seen = channel.version
            await response.write(chunk)
            continue
        # Never write while holding the condition: a slow reader must not hold up the poll.
        changed = False
        async with channel.changed:
            if channel.version > seen:  # changed while this waited for the lock
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(channel.changed.wait(), keep_alive)
                changed = True
        if not changed:
            await response.write(b": keep-alive\n\n")


async def _report(request: web.Request) -> web.Response:
    admin = _admin(request)
    if isinstance(admin, Refusal):
        return _error(401, admin.code, admin.message)
    if not admin:
        return _error(401, "login_required", "The full report holds recorded requests: log in.")
    render = request.app[CONFIG].report
    if render is None:
        return _error(404, "no_report", "This dashboard has no comparison results to report.")
    html = await asyncio.to_thread(render)
    return web.Response(
        text=html, content_type="text/html", headers={"Content-Security-Policy": _REPORT_CSP}
    )


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


async def _login(request: web.Request) -> web.Response:
    if not _same_origin(request):
        return _error(403, "cross_origin", "Log in from the dashboard's own page.")
    form = await request.post()
    token = form.get("token")
    access = request.app[ACCESS]
    if not isinstance(token, str) or not access.token_matches(token):
        return _error(401, "invalid_token", "The token is not PROXY_ADMIN_TOKEN.")
    response: web.Response = (
        web.json_response({"admin": True}) if _wants_json(request) else web.HTTPSeeOther("/")
    )
    response.set_cookie(
        COOKIE, access.new_session(), max_age=SESSION_SECONDS, path="/", httponly=True,
        samesite="Strict", secure=request.secure,
    )  # fmt: skip
    return response


async def _logout(request: web.Request) -> web.Response:
    if not _same_origin(request):
        return _error(403, "cross_origin", "Log out from the dashboard's own page.")
    response: web.Response = (
        web.json_response({"admin": False}) if _wants_json(request) else web.HTTPSeeOther("/")
    )
    response.del_cookie(COOKIE, path="/", samesite="Strict", httponly=True)
    return response


async def _healthz(request: web.Request) -> web.Response:
    poller = request.app[POLLER]
    ready = poller.ready.is_set()
    body = {"ready": ready, "polls": poller.polls, "last_error": poller.last_error or None}
    return web.json_response(body, status=200 if ready else 503)


def build_app(poller: Poller, config: DashboardConfig) -> web.Application:
    """The application; the poll loop runs from its start-up to its clean-up."""
    app = web.Application()
    app.on_response_prepare.append(_headers)
    app[POLLER] = poller
    app[ACCESS] = Access(config.admin_token)
    app[CONFIG] = config
    app[STREAMS] = set()
    for path in _STATIC:
        app.router.add_get(path, _page)
    app.router.add_get("/api/overview", _overview)
    app.router.add_get("/events", _events)
    app.router.add_get("/report", _report)
    app.router.add_post("/login", _login)
    app.router.add_post("/logout", _logout)
    app.router.add_get("/healthz", _healthz)

    async def poll_loop(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(poller.run())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def end_streams(app: web.Application) -> None:
        streams = app[STREAMS]
        for stream in list(streams):
            stream.cancel()

    app.cleanup_ctx.append(poll_loop)
    app.on_shutdown.append(end_streams)
    return app
