"""``POST <prefix>/resolve``: the proxy asks who a session or ``Authorization`` header is.

Only the proxy may call it: the body is authenticated by an HMAC over the shared
``STRANGLER_IDENTITY_SECRET`` and a timestamp (``strangler.identity``); the proxy refuses
``/internal/`` from clients, so the endpoint is reachable only on the inside. The question
and the answer are ``protocol``'s. Errors are ``{"code", "message"}``: 403 when the caller
is not the proxy, 400 ``bad_request`` for a body that is no question, 422
``identity_too_large`` for a user whose id and name alone exceed an assertion.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from strangler.contrib.identity.config import identity_settings
from strangler.contrib.identity.protocol import (
    BadQuestion,
    answer_for,
    credentials_from,
    identity_of,
)
from strangler.contrib.identity.resolvers import CredentialRejected, Credentials
from strangler.identity import (
    INTERNAL_AUTH_HEADER,
    INTERNAL_TIMESTAMP_HEADER,
    SECRET_SETTING,
    IdentityInvalid,
    verify_internal_request,
)

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

__all__ = ["identity_resolve"]


def _error(code: str, message: str, *, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


@csrf_exempt  # the HMAC authenticates the caller; there is no browser and no cookie
@never_cache
@require_POST
def identity_resolve(request: HttpRequest) -> JsonResponse:
    try:
        verify_internal_request(
            request.body,
            mac=request.headers.get(INTERNAL_AUTH_HEADER),
            timestamp=request.headers.get(INTERNAL_TIMESTAMP_HEADER),
            secret=getattr(settings, SECRET_SETTING),
            now=time.time(),
        )
    except IdentityInvalid as exc:
        return _error(exc.code, exc.message, status=403)
    try:
        credentials = credentials_from(request.body)
    except BadQuestion as exc:
        return _error("bad_request", str(exc), status=400)
    user = _user_for(credentials) if credentials is not None else None
    if user is None:
        return JsonResponse(answer_for(None))
    try:
        identity = identity_of(user, identity_settings().claims)
    except ValueError as exc:
        return _error("identity_too_large", str(exc), status=422)
    return JsonResponse(answer_for(identity))


def _user_for(credentials: Credentials) -> AbstractBaseUser | None:
    """The first resolver's user; none once a resolver rejects its credential."""
    for resolver in identity_settings().resolvers:
        try:
            user = resolver(credentials)
        except CredentialRejected:
            return None
        if user is not None:
            return user
    return None
