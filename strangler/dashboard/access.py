"""Who may see what: the overview is public, as the proxy's ``GET /routes`` is; anything taken
from a recorded request or answer (comparison examples) and identities (who changed what)
need the admin token, sent as ``Authorization: Bearer`` or exchanged once on the login form
for a signed session cookie (HttpOnly, SameSite=Strict).

The token is ``PROXY_ADMIN_TOKEN``, read with the proxy's rule
(:mod:`strangler.servicekit.secret_settings`): outside demo mode a missing, short or
published one refuses to start. The cookie's key is derived from the token, so changing the
token ends every session, and a restart keeps them.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "COOKIE",
    "SESSION_SECONDS",
    "Access",
    "Refusal",
]

COOKIE = "strangler_dashboard"
# A working day: long enough not to nag, short enough that a forgotten laptop expires.
SESSION_SECONDS = 12 * 3600
_KEY_LABEL = b"strangler dashboard session v1"


@dataclass(frozen=True)
class Refusal:
    """A credential was sent and is not the token: 401 with this stable code."""

    code: Literal["invalid_token"]
    message: str


class Access:
    """Checks a bearer token or a session cookie against the admin token."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()
        self._key = hmac.new(self._token, _KEY_LABEL, hashlib.sha256).digest()

    def token_matches(self, supplied: str) -> bool:
        # Constant time: how long a refusal takes tells nothing about the guess.
        return hmac.compare_digest(supplied.strip().encode(), self._token)

    def new_session(self, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + SESSION_SECONDS)
        return f"{expires}.{self._sign(str(expires))}"

    def session_valid(self, value: str, now: float | None = None) -> bool:
        expires, _, signature = value.partition(".")
        if not expires.isdigit() or not hmac.compare_digest(signature, self._sign(expires)):
            return False
        return int(expires) > (time.time() if now is None else now)

    def check(self, authorization: str, cookie: str | None) -> bool | Refusal:
        """``True`` (admin), ``False`` (public) or the refusal of a wrong bearer token. A
        session cookie that expired or does not verify reads as public: the page then offers
        the login form again instead of failing."""
        scheme, _, supplied = authorization.partition(" ")
        if authorization:
            if scheme.lower() == "bearer" and self.token_matches(supplied):
                return True
            return Refusal("invalid_token", "The bearer token is not PROXY_ADMIN_TOKEN.")
        return bool(cookie) and self.session_valid(cookie or "")

    def _sign(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()
