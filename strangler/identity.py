"""Signed, short-lived assertions between the proxy, the monolith and the services.

Everything here is an HMAC-SHA256 over ``STRANGLER_IDENTITY_SECRET``, shared by the three:

- ``X-Strangler-Identity``: who the user is, asserted by the proxy to a service.
- ``X-Strangler-Force``: which side answers, for internal testing; a client cannot choose
  its side without the secret.
- ``X-Strangler-Internal-Auth`` with ``X-Strangler-Timestamp``: the proxy's call to the
  monolith's identity endpoint.

The format and its errors are ``strangler.signed_assertions`` (re-exported here).

An identity may carry the user's permissions and group names (the monolith's identity app
sends them when its ``claims`` ask for them), so a service can answer ``has_perm`` as the
monolith does. They are bounded: the whole assertion stays under ``MAX_ASSERTION_CHARS``
(``fit_claims`` drops the alphabetically last permissions, then group names, to fit).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from strangler.signed_assertions import (
    MAX_ASSERTION_CHARS,
    SECRET_SETTING,
    IdentityBadSignature,
    IdentityExpired,
    IdentityInvalid,
    IdentityMalformed,
    payload_fits,
    require_secret,
    sign_assertion,
    verify_assertion,
)

__all__ = [
    "FORCE_HEADER",
    "FORCE_TTL_SECONDS",
    "IDENTITY_HEADER",
    "IDENTITY_LEEWAY_SECONDS",
    "IDENTITY_TTL_SECONDS",
    "INTERNAL_AUTH_HEADER",
    "INTERNAL_AUTH_MAX_SKEW_SECONDS",
    "INTERNAL_TIMESTAMP_HEADER",
    "MAX_ASSERTION_CHARS",
    "SECRET_SETTING",
    "ForcedSide",
    "Identity",
    "IdentityBadSignature",
    "IdentityExpired",
    "IdentityInvalid",
    "IdentityMalformed",
    "fit_claims",
    "optional_claims",
    "require_secret",
    "sign_force",
    "sign_identity",
    "sign_internal_request",
    "verify_force",
    "verify_identity",
    "verify_internal_request",
    "with_optional_claims",
]

IDENTITY_HEADER = "X-Strangler-Identity"
FORCE_HEADER = "X-Strangler-Force"
INTERNAL_AUTH_HEADER = "X-Strangler-Internal-Auth"
INTERNAL_TIMESTAMP_HEADER = "X-Strangler-Timestamp"

# The proxy signs afresh for every request, so the assertion only has to outlive one hop and
# the service's queue; a minute is ample for that and makes a leaked header useless soon.
IDENTITY_TTL_SECONDS = 60
# A force token is handed to a tester by hand, so it lives for a working session.
FORCE_TTL_SECONDS = 8 * 3600
# Clocks of the proxy's and the services' hosts may disagree by this much (NTP keeps them
# well within it); verifiers accept an assertion this long past its ``exp``.
IDENTITY_LEEWAY_SECONDS = 5
# The monolith refuses an internal call whose timestamp is further off than this: a
# recorded call cannot be replayed later (the endpoint only reads, so a replay inside the
# window teaches nothing the original did not).
INTERNAL_AUTH_MAX_SKEW_SECONDS = 30
# Measured as if expiring at the largest ten-digit time, so a later ``exp`` never overflows.
_SIZING_EXPIRY = 9_999_999_999
_HEX_MAC = re.compile(r"^[0-9a-f]{64}$")

_PURPOSE_IDENTITY = b"strangler-identity-v1"
_PURPOSE_FORCE = b"strangler-force-v1"

ForcedSide = Literal["legacy", "owner"]
_SIDES: tuple[str, ...] = get_args(ForcedSide)


@dataclass(frozen=True)
class Identity:
    """An authenticated user as the monolith knows them; anonymous is the absence of one.

    ``permissions`` are Django's ``"app_label.codename"`` strings (``get_all_permissions``)
    and ``groups`` the group names, both empty unless the monolith's identity app sends
    them; an active superuser's permissions are not listed, since it has them all.
    """

    user_id: str
    username: str
    is_staff: bool = False
    is_superuser: bool = False
    is_active: bool = True
    permissions: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    @property
    def is_authenticated(self) -> bool:
        return True


def sign_identity(
    identity: Identity, *, secret: str, now: float, ttl: int = IDENTITY_TTL_SECONDS
) -> str:
    """The ``X-Strangler-Identity`` value asserting ``identity`` until ``now + ttl``.

    Raises ``ValueError`` for an identity too large to verify: pass it through
    ``fit_claims`` first.
    """
    if not _fits(identity):
        raise ValueError(f"The identity would exceed {MAX_ASSERTION_CHARS} characters.")
    return sign_assertion(
        _identity_payload(identity, int(now) + ttl), purpose=_PURPOSE_IDENTITY, secret=secret
    )


def verify_identity(
    value: str, *, secret: str, now: float, leeway: float = IDENTITY_LEEWAY_SECONDS
) -> Identity:
    """The identity ``value`` asserts; raises an ``IdentityInvalid`` saying why not."""
    payload = verify_assertion(
        value, purpose=_PURPOSE_IDENTITY, secret=secret, now=now, leeway=leeway
    )
    user_id, username, staff = payload.get("sub"), payload.get("name"), payload.get("staff")
    if not (isinstance(user_id, str) and user_id and isinstance(username, str)):
        raise IdentityMalformed("The identity names no user.")
    if not isinstance(staff, bool):
        raise IdentityMalformed("The identity's staff flag is not a boolean.")
    return with_optional_claims(Identity(user_id, username, is_staff=staff), payload)


def optional_claims(identity: Identity) -> dict[str, Any]:
    """The claims beyond who the user is, each only when it says something, so that an
    identity without them is the same few bytes it always was: ``"is_superuser": true``,
    ``"is_active": false``, ``"permissions"`` and ``"groups"`` (sorted lists). The signed
    assertion and the monolith's answer to the proxy carry them under the same keys."""
    claims: dict[str, Any] = {}
    if identity.is_superuser:
        claims["is_superuser"] = True
    if not identity.is_active:
        claims["is_active"] = False
    if identity.permissions:
        claims["permissions"] = sorted(identity.permissions)
    if identity.groups:
        claims["groups"] = sorted(identity.groups)
    return claims


def with_optional_claims(identity: Identity, claims: Mapping[str, Any]) -> Identity:
    """``identity`` with the optional claims found in ``claims`` (the defaults for those
    absent); raises ``IdentityMalformed`` for one of the wrong type."""
    superuser, active = claims.get("is_superuser", False), claims.get("is_active", True)
    if not (isinstance(superuser, bool) and isinstance(active, bool)):
        raise IdentityMalformed("is_superuser and is_active must be booleans.")
    return replace(
        identity,
        is_superuser=superuser,
        is_active=active,
        permissions=_names(claims, "permissions"),
        groups=_names(claims, "groups"),
    )


def fit_claims(identity: Identity) -> Identity:
    """``identity`` with as many of its permissions, then group names, as its assertion
    can carry (``MAX_ASSERTION_CHARS``), the alphabetically first ones kept.

    A permission dropped is one the service denies: never more than the monolith grants.
    Raises ``ValueError`` when not even the name and id fit.
    """
    if _fits(identity):
        return identity
    bare = replace(identity, permissions=frozenset(), groups=frozenset())
    if not _fits(bare):
        raise ValueError(f"The user's id and name exceed {MAX_ASSERTION_CHARS} characters.")
    permissions = _longest_fitting(
        sorted(identity.permissions), lambda kept: replace(bare, permissions=kept)
    )
    with_permissions = replace(bare, permissions=permissions)
    groups = _longest_fitting(
        sorted(identity.groups), lambda kept: replace(with_permissions, groups=kept)
    )
    return replace(with_permissions, groups=groups)


def _identity_payload(identity: Identity, expires: int) -> dict[str, Any]:
    return {
        "sub": identity.user_id,
        "name": identity.username,
        "staff": identity.is_staff,
        "exp": expires,
        **optional_claims(identity),
    }


def _fits(identity: Identity) -> bool:
    return payload_fits(_identity_payload(identity, _SIZING_EXPIRY))


def _longest_fitting(
    names: list[str], carrying: Callable[[frozenset[str]], Identity]
) -> frozenset[str]:
    """The longest prefix of ``names`` whose identity, ``carrying(prefix)``, still fits
    (bisection: a few hundred names cost a handful of encodings, not one each)."""
    low, high = 0, len(names)
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(carrying(frozenset(names[:middle]))):
            low = middle
        else:
            high = middle - 1
    return frozenset(names[:low])


def _names(claims: Mapping[str, Any], key: str) -> frozenset[str]:
    value = claims.get(key, [])
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise IdentityMalformed(f"{key} must be a list of strings.")
    return frozenset(value)


def sign_force(side: ForcedSide, *, secret: str, now: float, ttl: int = FORCE_TTL_SECONDS) -> str:
    """The ``X-Strangler-Force`` value sending requests to ``side`` until ``now + ttl``."""
    if side not in _SIDES:
        raise ValueError(f"side={side!r}: expected one of {', '.join(_SIDES)}")
    return sign_assertion(
        {"side": side, "exp": int(now) + ttl}, purpose=_PURPOSE_FORCE, secret=secret
    )


def verify_force(
    value: str, *, secret: str, now: float, leeway: float = IDENTITY_LEEWAY_SECONDS
) -> ForcedSide:
    """The side ``value`` forces; raises an ``IdentityInvalid`` saying why not."""
    payload = verify_assertion(value, purpose=_PURPOSE_FORCE, secret=secret, now=now, leeway=leeway)
    side = payload.get("side")
    if side == "legacy":
        return "legacy"
    if side == "owner":
        return "owner"
    raise IdentityMalformed(f"The force assertion names no side ({', '.join(_SIDES)}).")


def sign_internal_request(body: bytes, *, secret: str, timestamp: int) -> str:
    """Hex HMAC-SHA256 over ``b"<timestamp>." + body``: the ``X-Strangler-Internal-Auth``."""
    key = require_secret(secret)
    return hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_internal_request(
    body: bytes,
    *,
    mac: str | None,
    timestamp: str | None,
    secret: str,
    now: float,
    max_skew: float = INTERNAL_AUTH_MAX_SKEW_SECONDS,
) -> None:
    """Return when ``mac`` and ``timestamp`` (the two headers) authenticate ``body``."""
    key = require_secret(secret)
    if not mac or not timestamp:
        raise IdentityMalformed(
            f"Send {INTERNAL_AUTH_HEADER} and {INTERNAL_TIMESTAMP_HEADER}.", code="unauthenticated"
        )
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise IdentityMalformed(f"{INTERNAL_TIMESTAMP_HEADER} is not whole Unix seconds.")
    if not _HEX_MAC.match(mac):
        raise IdentityMalformed(f"{INTERNAL_AUTH_HEADER} is not a hex HMAC-SHA256.")
    expected = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected):
        raise IdentityBadSignature(f"{INTERNAL_AUTH_HEADER} does not match the body.")
    if abs(now - int(timestamp)) > max_skew:
        raise IdentityExpired(
            f"{INTERNAL_TIMESTAMP_HEADER} is more than {max_skew:g} s off.",
            code="stale_timestamp",
        )
