"""Signed, short-lived assertions between the proxy, the monolith and the services.

Everything here is an HMAC-SHA256 over ``STRANGLER_IDENTITY_SECRET``, shared by the three:

- ``X-Strangler-Identity``: who the user is, asserted by the proxy to a service.
- ``X-Strangler-Force``: which side answers, for internal testing; a client cannot choose
  its side without the secret.
- ``X-Strangler-Internal-Auth`` with ``X-Strangler-Timestamp``: the proxy's call to the
  monolith's identity endpoint.

An assertion is ``base64url(JSON payload with "exp") + "." + base64url(MAC)``. The MAC
covers a purpose label too, so an assertion made for one header never verifies as another.

IdentityInvalid                 identity_invalid (ValueError)
├── IdentityMalformed           malformed        (not our format, or an unusable payload)
├── IdentityBadSignature        bad_signature    (another secret, or tampered with)
└── IdentityExpired             expired          (past its ``exp``, or a stale timestamp)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, get_args

__all__ = [
    "FORCE_HEADER",
    "FORCE_TTL_SECONDS",
    "IDENTITY_HEADER",
    "IDENTITY_LEEWAY_SECONDS",
    "IDENTITY_TTL_SECONDS",
    "INTERNAL_AUTH_HEADER",
    "INTERNAL_AUTH_MAX_SKEW_SECONDS",
    "INTERNAL_TIMESTAMP_HEADER",
    "SECRET_SETTING",
    "ForcedSide",
    "Identity",
    "IdentityBadSignature",
    "IdentityExpired",
    "IdentityInvalid",
    "IdentityMalformed",
    "require_secret",
    "sign_force",
    "sign_identity",
    "sign_internal_request",
    "verify_force",
    "verify_identity",
    "verify_internal_request",
]

IDENTITY_HEADER = "X-Strangler-Identity"
FORCE_HEADER = "X-Strangler-Force"
INTERNAL_AUTH_HEADER = "X-Strangler-Internal-Auth"
INTERNAL_TIMESTAMP_HEADER = "X-Strangler-Timestamp"
SECRET_SETTING = "STRANGLER_IDENTITY_SECRET"  # noqa: S105 - the name of the setting

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
# Far longer than any assertion we make; anything longer is refused before any decoding.
_MAX_ASSERTION_CHARS = 2048
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_HEX_MAC = re.compile(r"^[0-9a-f]{64}$")

_PURPOSE_IDENTITY = b"strangler-identity-v1"
_PURPOSE_FORCE = b"strangler-force-v1"

ForcedSide = Literal["legacy", "owner"]
_SIDES: tuple[str, ...] = get_args(ForcedSide)


class IdentityInvalid(ValueError):
    """An assertion signed with the identity secret that does not verify."""

    default_code: ClassVar[str] = "identity_invalid"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code


class IdentityMalformed(IdentityInvalid):
    default_code = "malformed"


class IdentityBadSignature(IdentityInvalid):
    default_code = "bad_signature"


class IdentityExpired(IdentityInvalid):
    default_code = "expired"


@dataclass(frozen=True)
class Identity:
    """An authenticated user as the monolith knows them; anonymous is the absence of one."""

    user_id: str
    username: str
    is_staff: bool = False

    @property
    def is_authenticated(self) -> bool:
        return True


def require_secret(secret: str) -> bytes:
    """The secret as a key; an empty one stops the caller with the setting's name."""
    if not secret:
        raise ValueError(
            f"{SECRET_SETTING} is empty: the proxy, the monolith and the services must share "
            "a non-empty secret to sign and verify identity assertions."
        )
    return secret.encode()


def sign_identity(
    identity: Identity, *, secret: str, now: float, ttl: int = IDENTITY_TTL_SECONDS
) -> str:
    """The ``X-Strangler-Identity`` value asserting ``identity`` until ``now + ttl``."""
    payload = {
        "sub": identity.user_id,
        "name": identity.username,
        "staff": identity.is_staff,
        "exp": int(now) + ttl,
    }
    return _sign(payload, purpose=_PURPOSE_IDENTITY, secret=secret)


def verify_identity(
    value: str, *, secret: str, now: float, leeway: float = IDENTITY_LEEWAY_SECONDS
) -> Identity:
    """The identity ``value`` asserts; raises an ``IdentityInvalid`` saying why not."""
    payload = _verify(value, purpose=_PURPOSE_IDENTITY, secret=secret, now=now, leeway=leeway)
    user_id, username, staff = payload.get("sub"), payload.get("name"), payload.get("staff")
    if not (isinstance(user_id, str) and user_id and isinstance(username, str)):
        raise IdentityMalformed("The identity names no user.")
    if not isinstance(staff, bool):
        raise IdentityMalformed("The identity's staff flag is not a boolean.")
    return Identity(user_id=user_id, username=username, is_staff=staff)


def sign_force(side: ForcedSide, *, secret: str, now: float, ttl: int = FORCE_TTL_SECONDS) -> str:
    """The ``X-Strangler-Force`` value sending requests to ``side`` until ``now + ttl``."""
    if side not in _SIDES:
        raise ValueError(f"side={side!r}: expected one of {', '.join(_SIDES)}")
    return _sign({"side": side, "exp": int(now) + ttl}, purpose=_PURPOSE_FORCE, secret=secret)


def verify_force(
    value: str, *, secret: str, now: float, leeway: float = IDENTITY_LEEWAY_SECONDS
) -> ForcedSide:
    """The side ``value`` forces; raises an ``IdentityInvalid`` saying why not."""
    payload = _verify(value, purpose=_PURPOSE_FORCE, secret=secret, now=now, leeway=leeway)
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


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not _BASE64URL.match(text):
        raise IdentityMalformed("The assertion is not base64url.")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise IdentityMalformed("The assertion is not base64url.") from None


def _mac(key: bytes, purpose: bytes, encoded_payload: str) -> bytes:
    return hmac.new(key, purpose + b"." + encoded_payload.encode("ascii"), hashlib.sha256).digest()


def _sign(payload: dict[str, Any], *, purpose: bytes, secret: str) -> str:
    key = require_secret(secret)
    encoded = _b64encode(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{encoded}.{_b64encode(_mac(key, purpose, encoded))}"


def _verify(
    value: str, *, purpose: bytes, secret: str, now: float, leeway: float
) -> dict[str, Any]:
    key = require_secret(secret)
    if len(value) > _MAX_ASSERTION_CHARS or value.count(".") != 1:
        raise IdentityMalformed("The assertion is not '<payload>.<signature>'.")
    encoded, signature = value.split(".")
    given = _b64decode(signature)
    # The MAC is checked before the payload is parsed: unsigned input is never decoded.
    if not hmac.compare_digest(given, _mac(key, purpose, encoded)):
        raise IdentityBadSignature("The assertion's signature does not match.")
    try:
        payload = json.loads(_b64decode(encoded))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise IdentityMalformed("The assertion's payload is not JSON.") from None
    if not isinstance(payload, dict):
        raise IdentityMalformed("The assertion's payload is not an object.")
    expires = payload.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, int):
        raise IdentityMalformed("The assertion has no expiry.")
    if now > expires + leeway:
        raise IdentityExpired("The assertion has expired.")
    return payload
