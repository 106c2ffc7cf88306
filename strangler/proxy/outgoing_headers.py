"""The client's request headers as each upstream gets them, filtered once per request.

A request may go to several upstreams: its primary, a fallback, a shadow copy and the
monolith asked again for it. ``strangler.proxy.headers`` filters the client's headers once; the
monolith gets them so, with the client's credentials and no identity header. A service gets
them without the monolith's credentials (``strangler.proxy.credentials``), built on first use only,
with the proxy's signed identity header when the user was resolved.
"""

from __future__ import annotations

from aiohttp import web

from strangler.identity import IDENTITY_HEADER
from strangler.proxy.credentials import without_monolith_credentials
from strangler.proxy.headers import TrustedProxies, request_headers

__all__ = ["OutgoingHeaders"]

_IDENTITY_RAW = IDENTITY_HEADER.encode()


class OutgoingHeaders:
    __slots__ = ("_identity", "_service", "_service_cookies", "legacy")

    def __init__(
        self,
        legacy: list[tuple[bytes, bytes]],
        *,
        identity: str | None,
        service_cookies: frozenset[bytes],
    ) -> None:
        self.legacy = legacy
        self._identity = identity
        self._service_cookies = service_cookies
        self._service: list[tuple[bytes, bytes]] | None = None

    @classmethod
    def of(
        cls,
        request: web.BaseRequest,
        *,
        trusted: TrustedProxies,
        request_id: str,
        identity: str | None,
        service_cookies: frozenset[bytes],
    ) -> OutgoingHeaders:
        legacy = request_headers(
            request.raw_headers,
            peer=request.remote,
            scheme=request.scheme,
            host=request.host,
            trusted=trusted,
            request_id=request_id,
            identity=None,
        )
        return cls(legacy, identity=identity, service_cookies=service_cookies)

    @property
    def service(self) -> list[tuple[bytes, bytes]]:
        """As a service gets them: without the monolith's credentials, with the identity."""
        if self._service is None:
            headers = without_monolith_credentials(
                self.legacy, allowed_cookies=self._service_cookies
            )
            if self._identity is not None:
                headers.append((_IDENTITY_RAW, self._identity.encode()))
            self._service = headers
        return self._service

    def to(self, *, legacy: bool) -> list[tuple[bytes, bytes]]:
        return self.legacy if legacy else self.service
