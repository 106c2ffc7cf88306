"""Identity across the boundary, as the proxy sees it.

The proxy strips every identity header a client sends (``strangler.proxy.headers``), asks the
monolith who the client's session cookie or ``Authorization`` header is, and hands the
services its own signed, short-lived ``X-Strangler-Identity`` (``strangler.identity``),
with the permissions and groups the monolith sends along. The monolith answers with
``strangler.contrib.identity``; which cookie and which ``Authorization`` schemes go to it
are the resolver's options (the session cookie's name must be the monolith's
``SESSION_COOKIE_NAME``; schemes other than ``Token`` go only when named, or all with ``*``).
Answers are cached briefly; a monolith that cannot answer makes the client anonymous to
the service, never a failed request. ``X-Strangler-Force`` chooses a side only when it
carries a valid signature.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from multidict import CIMultiDictProxy

from strangler import identity as assertions
from strangler.identity import FORCE_HEADER, IDENTITY_HEADER, IdentityInvalid
from strangler.proxy.modes import Side

__all__ = [
    "ANY_SCHEME",
    "DEFAULT_SCHEMES",
    "FORCE_HEADER",
    "IDENTITY_CACHE_ENTRIES",
    "IDENTITY_CACHE_SECONDS",
    "IDENTITY_HEADER",
    "RESOLVE_PATH",
    "RESOLVE_TIMEOUT_SECONDS",
    "Identity",
    "IdentityResolver",
    "MonolithIdentityResolver",
    "NoIdentity",
]

logger = logging.getLogger(__name__)

RESOLVE_PATH = "/internal/identity/resolve"
# Resolving sits in front of every request to a service. The monolith answers it from one
# indexed lookup in a few milliseconds; one that has not answered in a second is treated as
# down (the client goes to the service anonymous) rather than holding the client up.
RESOLVE_TIMEOUT_SECONDS = 1.0
RESOLVE_CONNECT_TIMEOUT_SECONDS = 0.5
# How long an answer is reused: a logout, a password change or a deleted token reaches the
# services at most this late, and a busy user costs the monolith one lookup per period.
IDENTITY_CACHE_SECONDS = 10.0
# What a monolith resolves out of the box: DRF's token (strangler.contrib.identity).
DEFAULT_SCHEMES = ("Token",)
# In ``schemes``: every ``Authorization`` header goes to the monolith, whatever its scheme.
ANY_SCHEME = "*"
# Bounded so that a flood of made-up tokens cannot grow memory (each entry is ~300 bytes,
# up to ~6 KB for a user whose permissions fill an assertion); the least recently used
# answers go first.
IDENTITY_CACHE_ENTRIES = 10_000


@dataclass(frozen=True)
class Identity:
    user_id: str
    header_value: str


class IdentityResolver(Protocol):
    async def resolve(self, headers: CIMultiDictProxy[str]) -> Identity | None: ...

    def forced_side(self, headers: CIMultiDictProxy[str]) -> Side | None: ...

    async def close(self) -> None: ...


class NoIdentity:
    """Asserts nothing and forces nothing: the proxy without ``STRANGLER_IDENTITY_SECRET``."""

    async def resolve(self, headers: CIMultiDictProxy[str]) -> Identity | None:
        return None

    def forced_side(self, headers: CIMultiDictProxy[str]) -> Side | None:
        return None

    async def close(self) -> None:
        return None

    @staticmethod
    def unless_configured(
        secret: str,
        *,
        monolith_url: str | Callable[[], str],
        session_cookie_name: str = "sessionid",
        schemes: Iterable[str] = DEFAULT_SCHEMES,
    ) -> IdentityResolver:
        """``NoIdentity()`` without a secret; else a resolver asking the monolith."""
        if not secret:
            return NoIdentity()
        return MonolithIdentityResolver(monolith_url, secret, session_cookie_name, schemes=schemes)


@dataclass(frozen=True)
class _Credentials:
    """The question for the monolith (``strangler.contrib.identity.protocol``): a DRF token
    as ``token``, which any version of the endpoint reads; another scheme's header whole."""

    session_id: str | None
    token: str | None
    authorization: str | None = None

    @property
    def is_empty(self) -> bool:
        return self.session_id is None and self.token is None and self.authorization is None

    def body(self) -> bytes:
        question: dict[str, str | None] = {"session_id": self.session_id, "token": self.token}
        if self.authorization is not None:
            question["authorization"] = self.authorization
        return json.dumps(question).encode()


def _cookie(headers: CIMultiDictProxy[str], name: str) -> str | None:
    """The cookie ``name`` as Django parses the ``Cookie`` header (the last one wins)."""
    found = None
    for header in headers.getall("Cookie", []):
        for chunk in header.split(";"):
            key, sep, value = chunk.partition("=")
            if sep and key.strip() == name:
                found = value.strip().strip('"') or None
    return found


def _credentials_from(
    headers: CIMultiDictProxy[str], *, session_cookie: str, schemes: frozenset[str]
) -> _Credentials:
    """The session cookie, and the ``Authorization`` header when its scheme is one of
    ``schemes`` (lower case): a DRF token as its key, as ``TokenAuthentication`` reads it."""
    session_id = _cookie(headers, session_cookie)
    header = headers.get("Authorization", "").strip()
    scheme = header.split(maxsplit=1)[0].lower() if header else ""
    if not scheme or not (scheme in schemes or ANY_SCHEME in schemes):
        return _Credentials(session_id=session_id, token=None)
    if scheme == "token":
        parts = header.split()
        return _Credentials(session_id=session_id, token=parts[1] if len(parts) == 2 else None)
    return _Credentials(session_id=session_id, token=None, authorization=header)


class MonolithIdentityResolver:
    """Resolves a client's credentials with the monolith's ``/internal/identity/resolve``."""

    def __init__(
        self,
        base_url: str | Callable[[], str],
        secret: str,
        session_cookie_name: str = "sessionid",
        cache_ttl: float = IDENTITY_CACHE_SECONDS,
        *,
        schemes: Iterable[str] = DEFAULT_SCHEMES,
        cache_size: int = IDENTITY_CACHE_ENTRIES,
        timeout: float = RESOLVE_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        assertions.require_secret(secret)
        # A function follows the route table: a reload that moves the monolith moves this too.
        self._base_url = base_url if callable(base_url) else (lambda: base_url)
        self.secret = secret
        self.session_cookie_name = session_cookie_name
        self.schemes = frozenset(scheme.lower() for scheme in schemes)
        self.cache_ttl = cache_ttl
        self.cache_size = cache_size
        self.timeout = aiohttp.ClientTimeout(
            total=timeout, connect=min(timeout, RESOLVE_CONNECT_TIMEOUT_SECONDS)
        )
        self.clock = clock
        self._cache: OrderedDict[str, tuple[float, assertions.Identity | None]] = OrderedDict()
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return self._base_url().rstrip("/") + RESOLVE_PATH

    async def resolve(self, headers: CIMultiDictProxy[str]) -> Identity | None:
        credentials = _credentials_from(
            headers, session_cookie=self.session_cookie_name, schemes=self.schemes
        )
        if credentials.is_empty:
            return None
        body = credentials.body()
        # The key is exactly what the monolith is asked, kept only as a digest so that a
        # memory dump or a log shows no credential.
        key = hashlib.sha256(body).hexdigest()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self.clock():
            self._cache.move_to_end(key)
            user = cached[1]
        else:
            self._cache.pop(key, None)
            try:
                user = await self._ask(body)
            except _Unresolved as exc:
                logger.warning("Identity not resolved, forwarding as anonymous: %s", exc)
                return None
            self._remember(key, user)
        if user is None:
            return None
        # Signed per request from the cached identity, so the expiry is always a fresh one.
        value = assertions.sign_identity(user, secret=self.secret, now=time.time())
        return Identity(user_id=user.user_id, header_value=value)

    def forced_side(self, headers: CIMultiDictProxy[str]) -> Side | None:
        value = headers.get(FORCE_HEADER)
        if not value:
            return None
        try:
            return assertions.verify_force(value, secret=self.secret, now=time.time())
        except IdentityInvalid as exc:
            logger.warning("Ignoring %s (%s): %s", FORCE_HEADER, exc.code, exc.message)
            return None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _remember(self, key: str, user: assertions.Identity | None) -> None:
        self._cache[key] = (self.clock() + self.cache_ttl, user)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def _ask(self, data: bytes) -> assertions.Identity | None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            assertions.INTERNAL_TIMESTAMP_HEADER: str(timestamp),
            assertions.INTERNAL_AUTH_HEADER: assertions.sign_internal_request(
                data, secret=self.secret, timestamp=timestamp
            ),
        }
        try:
            async with self._session.post(self.url, data=data, headers=headers) as response:
                status, raw = response.status, await response.read()
        except TimeoutError:
            raise _Unresolved(f"{self.url} did not answer in {self.timeout.total:g} s") from None
        except aiohttp.ClientError as exc:
            raise _Unresolved(f"{self.url} could not be reached ({exc})") from None
        if status == 403:
            raise _Unresolved(
                f"{self.url} refused the proxy (403): do both share STRANGLER_IDENTITY_SECRET "
                "and roughly the same clock?"
            )
        if status != 200:
            raise _Unresolved(f"{self.url} answered {status}")
        try:
            return _identity_from_answer(json.loads(raw))
        except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError included
            raise _Unresolved(f"{self.url} answered something unusable ({exc})") from None


class _Unresolved(Exception):
    """The monolith gave no usable answer; the request goes on anonymous, uncached."""


def _identity_from_answer(answer: Any) -> assertions.Identity | None:
    """The identity the monolith answered, its claims cut to what an assertion carries."""
    if not isinstance(answer, dict) or not isinstance(answer.get("authenticated"), bool):
        raise ValueError("no 'authenticated' flag")
    if not answer["authenticated"]:
        return None
    user_id, username = answer.get("user_id"), answer.get("username")
    if not (isinstance(user_id, str) and user_id and isinstance(username, str)):
        raise ValueError("an authenticated answer without user_id and username")
    identity = assertions.Identity(user_id, username, is_staff=answer.get("is_staff") is True)
    return assertions.fit_claims(assertions.with_optional_claims(identity, answer))
