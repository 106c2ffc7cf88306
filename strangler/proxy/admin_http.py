"""The admin API's plumbing, shared by its views: the application's keys, its one error
mapping (``AdminError``, the table file's and the control store's errors to ``{"code",
"message"}``) and the check of the bearer token that every change needs."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from strangler import routes_file
from strangler.control import StoreError, StoreUnavailable, VersionConflict
from strangler.proxy.routing import CompiledRoute, RouteTable
from strangler.proxy.settings import ProxySettings
from strangler.proxy.state import STATE, ProxyState

__all__ = [
    "PUBLIC_APP",
    "SETTINGS",
    "AdminError",
    "authorise",
    "errors_middleware",
    "find_route",
    "proxy_state",
]

logger = logging.getLogger("proxy.admin")

PUBLIC_APP = web.AppKey("public_app", web.Application)
SETTINGS = web.AppKey("settings", ProxySettings)

_STATUS_OF_FILE_ERROR: dict[type[routes_file.RoutesFileError], int] = {
    routes_file.RouteNotFound: 404,
    routes_file.BadChange: 400,
    routes_file.RampRefused: 409,
    routes_file.TableBusy: 503,
    routes_file.RoutesFileError: 500,
}
_STATUS_OF_STORE_ERROR: dict[type[StoreError], int] = {
    StoreUnavailable: 503,
    VersionConflict: 409,
}
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}


class AdminError(Exception):
    """An admin request refused: the HTTP status, a stable code, and what to fix."""

    def __init__(
        self, status: int, code: str, message: str, *, details: dict[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}  # more fields of the answer, for a program to act on


@web.middleware
async def errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every refusal of the admin API becomes ``{"code", "message"}`` here, and only here."""
    details: dict[str, object] = {}
    try:
        return await handler(request)
    except AdminError as exc:
        status, code, message, details = exc.status, exc.code, exc.message, exc.details
    except StoreError as exc:
        status, code = _STATUS_OF_STORE_ERROR.get(type(exc), 500), exc.code
        message = exc.message
        if isinstance(exc, StoreUnavailable):
            message += (
                "; this replica keeps serving its last table and holds. Retry once the store "
                "(STRANGLER_STORE_URL) answers."
            )
    except routes_file.RoutesFileError as exc:
        status, code, message = _STATUS_OF_FILE_ERROR.get(type(exc), 500), exc.code, exc.message
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        status, code, message = exc.status, _HTTP_CODES.get(exc.status, "http_error"), exc.reason
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return web.json_response(
        {**details, "code": code, "message": message}, status=status, headers=headers
    )


def authorise(request: web.Request) -> None:
    expected = request.app[SETTINGS].admin_token
    if not expected:
        raise AdminError(
            403,
            "admin_token_unset",
            "Changes are disabled: set PROXY_ADMIN_TOKEN for the proxy (and restart it), then "
            "send it as 'Authorization: Bearer <token>'.",
        )
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not supplied.strip():
        raise AdminError(
            401, "missing_token", "Send 'Authorization: Bearer <PROXY_ADMIN_TOKEN>' to change."
        )
    # Constant time: how long a refusal takes tells nothing about how much of a guess was right.
    if not hmac.compare_digest(supplied.strip().encode(), expected.encode()):
        logger.warning("admin change refused: wrong token from %s", request.remote)
        raise AdminError(401, "invalid_token", "The bearer token is not PROXY_ADMIN_TOKEN.")


def proxy_state(request: web.Request) -> ProxyState:
    return request.app[PUBLIC_APP][STATE]


def find_route(table: RouteTable, name: str) -> CompiledRoute:
    route = table.route(name)
    if route is None:
        raise AdminError(404, "route_not_found", f"No route named {name!r}.")
    return route
