"""Where the toolkit finds the running proxy's admin API, and how it authenticates to it.

One place for the commands that talk to it (``strangler routes``, ``strangler plan``): the
URL from ``$STRANGLER_ADMIN_URL`` or ``$PROXY_ADMIN_PORT``, the token from
``$PROXY_ADMIN_TOKEN``, and who is asking: the ``X-Strangler-Actor`` header the admin API
writes in the audit trail of a change (``strangler routes history``). ``strangler routes``
sends the operator; a plan sends ``plan:<name> by <operator>``.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping

__all__ = [
    "ACTOR_HEADER",
    "ADMIN_TOKEN_VARIABLE",
    "OPERATOR_VARIABLE",
    "admin_headers",
    "default_admin_url",
    "operator",
]

ADMIN_TOKEN_VARIABLE = "PROXY_ADMIN_TOKEN"  # noqa: S105 - the variable's name, not a secret
# Who runs the command, for the audit trail and plan history; else the login name.
OPERATOR_VARIABLE = "STRANGLER_OPERATOR"
ACTOR_HEADER = "X-Strangler-Actor"
# An actor is a name, not a document: the audit trail keeps this much of it.
_ACTOR_MAX_CHARS = 200


def default_admin_url() -> str:
    port = os.environ.get("PROXY_ADMIN_PORT") or "8001"
    return os.environ.get("STRANGLER_ADMIN_URL") or f"http://127.0.0.1:{port}"


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
