"""Credential resolvers: the forwarded credentials in, the user they prove out.

A resolver is any callable ``(Credentials) -> user | None``, named in
``STRANGLER_IDENTITY["resolvers"]`` and asked in that order, as DRF asks its
authentication classes:

- a user: that is who the client is; no later resolver is asked;
- ``None``: not a credential this resolver reads (no header of its scheme, no cookie);
- ``raise CredentialRejected``: its credential, but not a valid one; the client is
  anonymous and no later resolver is asked (an unknown token never falls back to a
  session, as DRF answers 401 for it).

A Bearer resolver is the team's own: read the token with ``authorization_credential`` and
verify it as the project does (a JWT library, an OAuth introspection)::

    def jwt_user(credentials: Credentials) -> AbstractBaseUser | None:
        token = authorization_credential(credentials, "Bearer")
        if token is None:
            return None
        try:
            claims = my_jwt.decode(token)
        except my_jwt.InvalidToken:
            raise CredentialRejected("invalid JWT") from None
        return User.objects.filter(pk=claims["user_id"], is_active=True).first()
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.utils.crypto import constant_time_compare

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

__all__ = [
    "CredentialRejected",
    "Credentials",
    "Resolver",
    "authorization_credential",
    "drf_token",
    "session",
]


@dataclass(frozen=True)
class Credentials:
    """What the proxy forwarded: the value of the session cookie it was configured with
    (which must be the project's ``SESSION_COOKIE_NAME``) and the ``Authorization``
    header, whole."""

    session_key: str | None = None
    authorization: str | None = None


class CredentialRejected(Exception):
    """The credential is this resolver's to read, and proves no one."""


Resolver = Callable[[Credentials], "AbstractBaseUser | None"]


def authorization_credential(credentials: Credentials, scheme: str) -> str | None:
    """The credential of ``Authorization: <scheme> <credential>``, as DRF reads a token.

    ``None`` for another scheme or no header; ``CredentialRejected`` for the scheme
    without exactly one credential after it.
    """
    parts = (credentials.authorization or "").split()
    if not parts or parts[0].lower() != scheme.lower():
        return None
    if len(parts) != 2:
        raise CredentialRejected(f"{scheme} needs exactly one credential, without spaces.")
    return parts[1]


def session(credentials: Credentials) -> AbstractBaseUser | None:
    """The user logged in to the session, as ``django.contrib.auth.get_user`` decides.

    Read-only: a session that no longer verifies is not flushed here; the monolith does
    that on the user's next request to it.
    """
    if credentials.session_key is None:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(credentials.session_key)
    try:
        user_id = get_user_model()._meta.pk.to_python(store[SESSION_KEY])
        backend_path = store[BACKEND_SESSION_KEY]
    except KeyError:
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    user: AbstractBaseUser | None = load_backend(backend_path).get_user(user_id)
    if user is None:
        return None
    session_hash = store.get(HASH_SESSION_KEY)
    if not session_hash:
        return None
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not any(constant_time_compare(session_hash, h) for h in hashes):
        return None  # the password changed (or the session was forged) since the login
    return user


def drf_token(credentials: Credentials) -> AbstractBaseUser | None:
    """The active user owning ``Authorization: Token <key>``, as DRF's
    ``TokenAuthentication`` decides; an unknown key or an inactive user is rejected."""
    from rest_framework.authtoken.models import Token  # only named when installed (config)

    key = authorization_credential(credentials, "Token")
    if key is None:
        return None
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        raise CredentialRejected("Unknown token, or its user is inactive.")
    user: AbstractBaseUser = token.user
    return user
