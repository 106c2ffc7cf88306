"""The proxy's identity as DRF authentication, with the monolith's ``Vary: Cookie``.

The monolith tries a token first and reads the session only when no ``Authorization: Token``
header is sent; reading the session makes its answer ``Vary: Cookie``. Behind the proxy the
service's answer varies with the same headers (the proxy resolves either to the identity),
so it says so in the same cases: a cache in front must not mix up two users' answers, and a
client must not tell the two apart by this header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from rest_framework.authentication import get_authorization_header
from rest_framework.request import Request

from strangler.servicekit.identity import StranglerIdentityAuthentication

__all__ = ["ProxyIdentityAuthentication", "vary_on_cookie_middleware"]

_VARIES_ON_COOKIE = "catalog_varies_on_cookie"


class ProxyIdentityAuthentication(StranglerIdentityAuthentication):
    """``StranglerIdentityAuthentication``, noting when the monolith would read the session."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        scheme = get_authorization_header(request).split()[:1]
        if [word.lower() for word in scheme] != [b"token"]:
            setattr(request._request, _VARIES_ON_COOKIE, True)
        return super().authenticate(request)


def vary_on_cookie_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Django middleware: ``Vary: Cookie`` where ``ProxyIdentityAuthentication`` noted it.

    Sits where the monolith's ``SessionMiddleware`` does, so the ``Vary`` values come in
    the same order.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if getattr(request, _VARIES_ON_COOKIE, False):
            patch_vary_headers(response, ("Cookie",))
        return response

    return middleware
