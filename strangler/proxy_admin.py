"""Where the toolkit finds the running proxy's admin API, and how it authenticates to it.

One place for the commands that talk to it (``strangler routes``, ``strangler plan``): the
URL from ``$STRANGLER_ADMIN_URL`` or ``$PROXY_ADMIN_PORT``, the token from
``$PROXY_ADMIN_TOKEN``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["ADMIN_TOKEN_VARIABLE", "admin_headers", "default_admin_url"]

ADMIN_TOKEN_VARIABLE = "PROXY_ADMIN_TOKEN"  # noqa: S105 - the variable's name, not a secret


def default_admin_url() -> str:
    port = os.environ.get("PROXY_ADMIN_PORT") or "8001"
    return os.environ.get("STRANGLER_ADMIN_URL") or f"http://127.0.0.1:{port}"


def admin_headers(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The bearer header for the admin API, or none when no token is set."""
    token = (os.environ if env is None else env).get(ADMIN_TOKEN_VARIABLE)
    return {"Authorization": f"Bearer {token}"} if token else {}
