"""The proxy's admin API, as ``strangler routes list|set`` call it.

A refused connection means no proxy runs there, and the commands fall back to the route
table's file (:class:`ProxyNotRunning`); any other failure to get an answer stops the command.
"""

from __future__ import annotations

from typing import Any

import requests

from strangler.cli.errors import CommandError, ExitCode
from strangler.proxy_admin import admin_headers, operator

__all__ = ["ProxyNotRunning", "admin_request"]

# Loopback or a LAN connects in well under 100 ms: 2 s without an answer means nobody is there.
ADMIN_CONNECT_TIMEOUT_SECONDS = 2.0
# A change may wait up to 10 s for the table's lock (routes_file.LOCK_TIMEOUT_SECONDS), then
# fsyncs; 30 s is all of that with room to spare.
ADMIN_READ_TIMEOUT_SECONDS = 30.0


class ProxyNotRunning(Exception):
    """Nothing listens at the admin URL: the proxy is not running."""


def admin_request(
    method: str, url: str, *, body: dict[str, object] | None = None
) -> tuple[int, dict[str, Any]]:
    """The admin API's status and JSON object for ``method url``.

    Raises :class:`ProxyNotRunning` when the connection is refused, and
    :class:`~strangler.cli.errors.CommandError` when there is no usable answer. A change is
    recorded in the audit trail under the operator's name (``$STRANGLER_OPERATOR`` or the
    login name).
    """
    headers = admin_headers(actor=operator())
    try:
        response = requests.request(
            method,
            url,
            json=body,
            headers=headers,
            timeout=(ADMIN_CONNECT_TIMEOUT_SECONDS, ADMIN_READ_TIMEOUT_SECONDS),
        )
    except requests.ConnectionError as exc:
        if _refused(exc):
            raise ProxyNotRunning(url) from exc
        raise CommandError(
            f"cannot reach the proxy's admin API at {url}: {exc}", exit_code=ExitCode.CANNOT_RUN
        ) from exc
    except requests.RequestException as exc:
        raise CommandError(
            f"the proxy's admin API at {url} did not answer: {exc}", exit_code=ExitCode.CANNOT_RUN
        ) from exc
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise CommandError(
            f"{url} answered {response.status_code} without a JSON object; "
            "is it the proxy's admin API?",
            exit_code=ExitCode.CANNOT_RUN,
        )
    return response.status_code, payload


def _refused(exc: BaseException) -> bool:
    """Whether a connection error is, underneath requests and urllib3, a refused connect."""
    pending: list[object] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        if isinstance(current, ConnectionRefusedError):
            return True
        seen.add(id(current))
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        pending += current.args
    return False
