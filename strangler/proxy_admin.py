"""Where the toolkit finds the running proxy's admin API, and how it authenticates to it.

One place for the commands that talk to it (``strangler routes``, ``strangler plan``): the
URL from ``--admin``, ``$STRANGLER_ADMIN_URL`` or ``$PROXY_ADMIN_PORT`` (the port the stack
gives the proxy), else the default port 8001, and always where it came from: a command says
which proxy it talks to (:func:`announce_admin`), since another proxy on the default port
answers just as well as the right one. The token from
``$PROXY_ADMIN_TOKEN``, and who is asking: the ``X-Strangler-Actor`` header the admin API
writes in the audit trail of a change (``strangler routes history``). ``strangler routes``
sends the operator; a plan sends ``plan:<name> by <operator>``.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "ACTOR_HEADER",
    "ADMIN_TOKEN_VARIABLE",
    "ADMIN_URL_VARIABLE",
    "OPERATOR_VARIABLE",
    "AdminLocation",
    "admin_headers",
    "admin_location",
    "announce_admin",
    "default_admin_url",
    "operator",
]

ADMIN_TOKEN_VARIABLE = "PROXY_ADMIN_TOKEN"  # noqa: S105 - the variable's name, not a secret
ADMIN_URL_VARIABLE = "STRANGLER_ADMIN_URL"
ADMIN_PORT_VARIABLE = "PROXY_ADMIN_PORT"
# The proxy's own default (strangler.proxy.settings) and stack.yaml's.
DEFAULT_ADMIN_PORT = 8001
# Who runs the command, for the audit trail and plan history; else the login name.
OPERATOR_VARIABLE = "STRANGLER_OPERATOR"
ACTOR_HEADER = "X-Strangler-Actor"
# An actor is a name, not a document: the audit trail keeps this much of it.
_ACTOR_MAX_CHARS = 200


@dataclass(frozen=True)
class AdminLocation:
    """The admin API's URL and, for people, where it came from."""

    url: str
    origin: str


def admin_location(given: str | None = None, env: Mapping[str, str] | None = None) -> AdminLocation:
    """``given`` (``--admin``), else ``$STRANGLER_ADMIN_URL``, else ``$PROXY_ADMIN_PORT`` on
    loopback, else the default port, which the origin says plainly."""
    environ = os.environ if env is None else env
    if given:
        return AdminLocation(given, "from --admin")
    if environ.get(ADMIN_URL_VARIABLE):
        return AdminLocation(environ[ADMIN_URL_VARIABLE], f"from ${ADMIN_URL_VARIABLE}")
    if environ.get(ADMIN_PORT_VARIABLE):
        port = environ[ADMIN_PORT_VARIABLE]
        return AdminLocation(f"http://127.0.0.1:{port}", f"from ${ADMIN_PORT_VARIABLE}")
    return AdminLocation(
        f"http://127.0.0.1:{DEFAULT_ADMIN_PORT}",
        f"the default port; set ${ADMIN_PORT_VARIABLE} or give --admin for another",
    )


def announce_admin(location: AdminLocation) -> None:
    """One line on stderr: which proxy the command talks to, and why that one."""
    print(f"using the proxy's admin API at {location.url} ({location.origin})", file=sys.stderr)


def default_admin_url() -> str:
    return admin_location().url


def operator(env: Mapping[str, str] | None = None) -> str:
    """Who runs this command: ``$STRANGLER_OPERATOR``, else the login name."""
    named = (os.environ if env is None else env).get(OPERATOR_VARIABLE)
    if named:
        return named
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (containers)
        return f"uid {os.getuid()}"


def admin_headers(
    env: Mapping[str, str] | None = None, *, actor: str | None = None
) -> dict[str, str]:
    """The bearer header for the admin API (none when no token is set), and ``actor`` as
    the ``X-Strangler-Actor`` the admin API records a change under."""
    token = (os.environ if env is None else env).get(ADMIN_TOKEN_VARIABLE)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if actor:
        # A header value is one line of Latin-1: anything else would fail the whole request.
        printable = "".join(c if " " <= c <= "~" else "?" for c in actor)
        headers[ACTOR_HEADER] = printable[:_ACTOR_MAX_CHARS]
    return headers
