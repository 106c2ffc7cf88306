"""The endpoint's wire format, both ways: the proxy's question in, the answer out.

Question: a JSON object, every key optional (what ``strangler.proxy.identity`` sends):

- ``session_id``: the value of the session cookie;
- ``authorization``: the ``Authorization`` header, whole, whatever its scheme;
- ``token``: a DRF token key, shorthand for ``"authorization": "Token <key>"`` (what
  the proxy sends for that scheme, and all an older proxy sends).

Answer: ``{"authenticated": bool, "user_id": str | null, "username": str | null,
"is_staff": bool}``, and for a user ``strangler.identity.optional_claims``, each only when
it says something: ``"is_superuser": true`` and ``"permissions": [...]`` (the
``permissions`` claim), ``"groups": [...]`` (the ``groups`` claim), ``"is_active": false``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from strangler.contrib.identity.resolvers import Credentials
from strangler.identity import Identity, fit_claims, optional_claims

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

__all__ = ["ANONYMOUS", "BadQuestion", "answer_for", "credentials_from", "identity_of"]

logger = logging.getLogger(__name__)

ANONYMOUS: dict[str, Any] = {
    "authenticated": False,
    "user_id": None,
    "username": None,
    "is_staff": False,
}
# Session keys and DRF tokens are 32 and 40 characters; anything far longer is not one.
_MAX_KEY_CHARS = 256
# A JWT with a few claims is under 1 KB; 4 KB leaves room for fat ones.
_MAX_AUTHORIZATION_CHARS = 4096
# Visible ASCII: what any session engine's keys and DRF's tokens are made of; a header
# value may have spaces between its scheme and its credential.
_KEY_CHARS = re.compile(r"^[\x21-\x7e]+$")
_HEADER_CHARS = re.compile(r"^[\x20-\x7e]+$")


class BadQuestion(ValueError):
    """A signed body that is not a question: answered 400 ``bad_request``."""


def credentials_from(body: bytes) -> Credentials | None:
    """The credentials ``body`` forwards; ``None`` when one of them cannot be a credential
    at all (clients send any cookie and any header: that is anonymous, not an error)."""
    try:
        payload = json.loads(body)
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError included
        raise BadQuestion("The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise BadQuestion("The body must be a JSON object.")
    session_key = _string(payload, "session_id")
    token, authorization = _string(payload, "token"), _string(payload, "authorization")
    if token is not None and authorization is not None:
        raise BadQuestion("Send token or authorization, not both.")
    if session_key is not None and not _plausible(session_key, _KEY_CHARS, _MAX_KEY_CHARS):
        return None
    if token is not None:
        if not _plausible(token, _KEY_CHARS, _MAX_KEY_CHARS):
            return None
        authorization = f"Token {token}"
    if authorization is not None and not _plausible(
        authorization, _HEADER_CHARS, _MAX_AUTHORIZATION_CHARS
    ):
        return None
    return Credentials(session_key=session_key, authorization=authorization)


def identity_of(user: AbstractBaseUser, claims: Collection[str]) -> Identity:
    """What the proxy may assert of ``user``, with the claims asked for, bounded."""
    superuser = "permissions" in claims and bool(getattr(user, "is_superuser", False))
    identity = Identity(
        user_id=str(user.pk),
        username=user.get_username(),
        is_staff=bool(getattr(user, "is_staff", False)),
        is_superuser=superuser,
        is_active=bool(user.is_active),
        # An active superuser has every permission: listing them all would say nothing more.
        permissions=frozenset()
        if "permissions" not in claims or (superuser and user.is_active)
        else _permissions(user),
        groups=_groups(user) if "groups" in claims else frozenset(),
    )
    fitted = fit_claims(identity)
    if fitted != identity:
        logger.warning(
            "User %s has more permissions and groups than an identity carries; services "
            "deny the %d dropped (the alphabetically last).",
            identity.user_id,
            len(identity.permissions - fitted.permissions) + len(identity.groups - fitted.groups),
        )
    return fitted


def answer_for(identity: Identity | None) -> dict[str, Any]:
    if identity is None:
        return dict(ANONYMOUS)
    return {
        "authenticated": True,
        "user_id": identity.user_id,
        "username": identity.username,
        "is_staff": identity.is_staff,
        **optional_claims(identity),
    }


def _permissions(user: AbstractBaseUser) -> frozenset[str]:
    # Through every authentication backend, as ``user.has_perm`` asks them.
    get_all = getattr(user, "get_all_permissions", None)
    return frozenset(get_all()) if get_all is not None else frozenset()


def _groups(user: AbstractBaseUser) -> frozenset[str]:
    groups = getattr(user, "groups", None)
    if groups is None:
        return frozenset()
    return frozenset(groups.values_list("name", flat=True))


def _string(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadQuestion(f"{name} must be a string or null.")
    return value


def _plausible(value: str, chars: re.Pattern[str], max_chars: int) -> bool:
    return len(value) <= max_chars and chars.match(value) is not None
