"""``POST /internal/identity/resolve``: the proxy asks who a session cookie or token is.

Only the proxy may call it: the body is authenticated by an HMAC over the shared
``STRANGLER_IDENTITY_SECRET`` and a timestamp (see ``strangler.identity``). The proxy
refuses ``/internal/`` from clients, so the endpoint is reachable only on the inside.

Request: ``{"session_id": str | null, "token": str | null}``. A token wins over a session,
as in ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]``; an unknown token does not fall
back to the session (DRF answers 401 for it too).
Answer: ``{"authenticated": bool, "user_id": str | null, "username": str | null,
"is_staff": bool}``; 403 ``{"code", "message"}`` when the caller is not the proxy.
"""

from __future__ import annotations

import json
import re
import time
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from strangler.identity import (
    INTERNAL_AUTH_HEADER,
    INTERNAL_TIMESTAMP_HEADER,
    IdentityInvalid,
    verify_internal_request,
)
from strangler.servicekit.api_errors import error_body

__all__ = ["identity_resolve", "user_for_session", "user_for_token"]

# Session keys and token keys are 32 and 40 characters; anything far longer is not one.
_MAX_CREDENTIAL_CHARS = 256
# Visible ASCII: what any session engine's keys and DRF's tokens are made of.
_KEY_CHARS = re.compile(r"^[\x21-\x7e]+$")


def user_for_session(*, session_key: str) -> AbstractBaseUser | None:
    """The user logged in to ``session_key``, as ``django.contrib.auth.get_user`` decides.

    Read-only: a session that no longer verifies is not flushed here; the monolith does
    that on the user's next request to it.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    try:
        user_id = get_user_model()._meta.pk.to_python(store[SESSION_KEY])
        backend_path = store[BACKEND_SESSION_KEY]
    except KeyError:
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    user = load_backend(backend_path).get_user(user_id)
    if user is None:
        return None
    session_hash = store.get(HASH_SESSION_KEY)
    if not session_hash:
        return None
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not any(constant_time_compare(session_hash, h) for h in hashes):
        return None  # the password changed (or the session was forged) since the login
    return user


def user_for_token(*, key: str) -> AbstractBaseUser | None:
    """The active user owning the DRF token ``key``, as ``TokenAuthentication`` decides."""
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None:
        return None
    user: AbstractBaseUser = token.user
    return user if user.is_active else None


def _credential(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string or null.")
    return value


def _plausible(key: str) -> bool:
    """Whether ``key`` could be a session or token key at all; clients send any cookie."""
    return len(key) <= _MAX_CREDENTIAL_CHARS and _KEY_CHARS.match(key) is not None


@csrf_exempt  # the HMAC authenticates the caller; there is no browser and no cookie
@never_cache
@require_POST
def identity_resolve(request: HttpRequest) -> JsonResponse:
    try:
        verify_internal_request(
            request.body,
            mac=request.headers.get(INTERNAL_AUTH_HEADER),
            timestamp=request.headers.get(INTERNAL_TIMESTAMP_HEADER),
            secret=settings.STRANGLER_IDENTITY_SECRET,
            now=time.time(),
        )
    except IdentityInvalid as exc:
        return JsonResponse(error_body(exc.code, exc.message), status=403)
    try:
        payload = json.loads(request.body)
        if not isinstance(payload, dict):
            raise ValueError("The body must be a JSON object.")
        token, session_id = _credential(payload, "token"), _credential(payload, "session_id")
    except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError included
        return JsonResponse(error_body("bad_request", str(exc)), status=400)

    user = None
    if token is not None:
        user = user_for_token(key=token) if _plausible(token) else None
    elif session_id is not None:
        user = user_for_session(session_key=session_id) if _plausible(session_id) else None
    if user is None:
        return JsonResponse(
            {"authenticated": False, "user_id": None, "username": None, "is_staff": False}
        )
    return JsonResponse(
        {
            "authenticated": True,
            "user_id": str(user.pk),
            "username": user.get_username(),
            "is_staff": bool(getattr(user, "is_staff", False)),
        }
    )


# Included by ``monolith.urls`` at ``internal/identity/resolve``.
