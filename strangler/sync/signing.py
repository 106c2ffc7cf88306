"""The signature of every ``/internal/sync/`` call (docs/sync.md, "Authentication").

The HMAC-SHA256, keyed with the sync secret, covers the whole call, so a signature is good for
one call only::

    strangler-sync-v2 \\n METHOD \\n /path?query \\n sender \\n receiver \\n timestamp \\n nonce
    \\n hex(sha256(body))

- method and path: a signature taken from one endpoint does not verify on another;
- sender and receiver (node names): a call signed for the catalog does not verify on the
  monolith, and the body's ``source`` must be the signed sender;
- timestamp (whole Unix seconds, at most ``SIGNATURE_WINDOW_SECONDS`` off) and a random
  nonce: the receiver records each signature until its timestamp leaves the window, and
  refuses one it has seen (``strangler.sync.replay``), so a captured call cannot be replayed.

Each attempt of a retried call is signed afresh (``signed_client``). No Django here: the plans
and the proxy's write guard sign their status reads with it, through ``signed_client``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from strangler.sync.errors import Unauthenticated

__all__ = [
    "NONCE_HEADER",
    "RECEIVER_HEADER",
    "SENDER_HEADER",
    "SIGNATURE_HEADER",
    "SIGNATURE_WINDOW_SECONDS",
    "TIMESTAMP_HEADER",
    "VerifiedCall",
    "sign_sync_call",
    "verify_sync_call",
]

SIGNATURE_HEADER = "X-Strangler-Sync-Signature"
SENDER_HEADER = "X-Strangler-Sync-From"
RECEIVER_HEADER = "X-Strangler-Sync-To"
NONCE_HEADER = "X-Strangler-Sync-Nonce"
TIMESTAMP_HEADER = "X-Strangler-Timestamp"
# Clocks of the two nodes may disagree by this much (NTP keeps them well within it); it is also
# how long the receiver keeps each signature it has seen, so the window bounds that table.
SIGNATURE_WINDOW_SECONDS = 30
_VERSION = b"strangler-sync-v2"
_HEX_MAC = re.compile(r"^[0-9a-f]{64}$")
_NONCE = re.compile(r"^[0-9a-f]{32}$")
_NODE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class VerifiedCall:
    """A call whose signature verified; the receiver still has to refuse a replay of it."""

    sender: str
    signature: str
    timestamp: int


def _mac(
    secret: str, *, method: str, path: str, sender: str, receiver: str, timestamp: str,
    nonce: str, body: bytes,
) -> str:  # fmt: skip
    if not secret:
        raise ValueError("the sync secret is empty: set STRANGLER_SYNC_SECRET")
    message = b"\n".join(
        [
            _VERSION,
            method.upper().encode(),
            path.encode(),
            sender.encode(),
            receiver.encode(),
            timestamp.encode(),
            nonce.encode(),
            hashlib.sha256(body).hexdigest().encode(),
        ]
    )
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_sync_call(
    *, secret: str, method: str, path: str, body: bytes, sender: str, receiver: str, now: float
) -> dict[str, str]:
    """The headers that authenticate one call from ``sender`` to ``receiver``; ``path`` is
    the request target as sent (path and query)."""
    timestamp, nonce = str(int(now)), secrets.token_hex(16)
    signature = _mac(
        secret, method=method, path=path, sender=sender, receiver=receiver,
        timestamp=timestamp, nonce=nonce, body=body,
    )  # fmt: skip
    return {
        SIGNATURE_HEADER: signature,
        SENDER_HEADER: sender,
        RECEIVER_HEADER: receiver,
        NONCE_HEADER: nonce,
        TIMESTAMP_HEADER: timestamp,
    }


def verify_sync_call(
    *,
    secret: str,
    method: str,
    path: str,
    body: bytes,
    headers: Mapping[str, str],
    receiver: str,
    now: float,
    window: float = SIGNATURE_WINDOW_SECONDS,
) -> VerifiedCall:
    """The verified call, or ``Unauthenticated`` with a stable code saying why not."""
    signature, sender = headers.get(SIGNATURE_HEADER), headers.get(SENDER_HEADER)
    addressee, nonce = headers.get(RECEIVER_HEADER), headers.get(NONCE_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    if not (signature and sender and addressee and nonce and timestamp):
        raise Unauthenticated(
            f"Send {SIGNATURE_HEADER}, {SENDER_HEADER}, {RECEIVER_HEADER}, {NONCE_HEADER} and "
            f"{TIMESTAMP_HEADER} (docs/sync.md, 'Authentication')."
        )
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise Unauthenticated(f"{TIMESTAMP_HEADER} is not whole Unix seconds.", code="malformed")
    if not (_HEX_MAC.match(signature) and _NONCE.match(nonce)):
        raise Unauthenticated(
            f"{SIGNATURE_HEADER} is not a hex HMAC-SHA256 or {NONCE_HEADER} not 32 hex digits.",
            code="malformed",
        )
    if not (_NODE.match(sender) and _NODE.match(addressee)):
        raise Unauthenticated("The sender or receiver is not a node name.", code="malformed")
    if addressee != receiver:
        raise Unauthenticated(
            f"The call is signed for node {addressee!r}; this is {receiver!r}.",
            code="wrong_receiver",
        )
    expected = _mac(
        secret, method=method, path=path, sender=sender, receiver=addressee,
        timestamp=timestamp, nonce=nonce, body=body,
    )  # fmt: skip
    if not hmac.compare_digest(signature, expected):
        raise Unauthenticated(
            f"{SIGNATURE_HEADER} does not match this call (method, path, nodes, body).",
            code="bad_signature",
        )
    if abs(now - int(timestamp)) > window:
        raise Unauthenticated(
            f"{TIMESTAMP_HEADER} is more than {window:g} s off.", code="stale_timestamp"
        )
    return VerifiedCall(sender=sender, signature=signature, timestamp=int(timestamp))
