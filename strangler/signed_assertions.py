"""The format of every assertion signed with ``STRANGLER_IDENTITY_SECRET``, and its errors.

An assertion is ``base64url(JSON payload with "exp") + "." + base64url(MAC)``, the MAC an
HMAC-SHA256 over a purpose label and the encoded payload, so an assertion made for one
header never verifies as another. ``strangler.identity`` says what is asserted.

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
from typing import Any, ClassVar

__all__ = [
    "MAX_ASSERTION_CHARS",
    "SECRET_SETTING",
    "IdentityBadSignature",
    "IdentityExpired",
    "IdentityInvalid",
    "IdentityMalformed",
    "payload_fits",
    "require_secret",
    "sign_assertion",
    "verify_assertion",
]

SECRET_SETTING = "STRANGLER_IDENTITY_SECRET"  # noqa: S105 - the name of the setting

# The longest assertion made or accepted; anything longer is refused before any decoding.
# With its header name it fits the 8 KB header line of gunicorn (limit_request_field_size
# 8190) and nginx (large_client_header_buffers 8k); typical permissions ("catalog.
# change_product", 22 characters) fit some 200 to a user beside a name and a few groups.
MAX_ASSERTION_CHARS = 8000
# The JSON payload that encodes to at most that: base64url makes 3 bytes 4 characters, and
# the "." and the 43 characters of the MAC follow.
_MAX_PAYLOAD_BYTES = (MAX_ASSERTION_CHARS - 44) * 3 // 4
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")


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


def require_secret(secret: str) -> bytes:
    """The secret as a key; an empty one stops the caller with the setting's name."""
    if not secret:
        raise ValueError(
            f"{SECRET_SETTING} is empty: the proxy, the monolith and the services must share "
            "a non-empty secret to sign and verify identity assertions."
        )
    return secret.encode()


def payload_fits(payload: dict[str, Any]) -> bool:
    """Whether ``payload``, signed, stays within ``MAX_ASSERTION_CHARS``."""
    return len(_json(payload)) <= _MAX_PAYLOAD_BYTES


def sign_assertion(payload: dict[str, Any], *, purpose: bytes, secret: str) -> str:
    """``payload`` signed for ``purpose``; its size is the caller's to check."""
    key = require_secret(secret)
    encoded = _b64encode(_json(payload))
    return f"{encoded}.{_b64encode(_mac(key, purpose, encoded))}"


def verify_assertion(
    value: str, *, purpose: bytes, secret: str, now: float, leeway: float
) -> dict[str, Any]:
    """The payload ``value`` signs for ``purpose``, unexpired; or an ``IdentityInvalid``."""
    key = require_secret(secret)
    if len(value) > MAX_ASSERTION_CHARS or value.count(".") != 1:
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


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


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
