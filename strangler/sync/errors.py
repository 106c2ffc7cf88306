"""The errors of ``strangler.sync``: one root, each with an HTTP status and a stable code.

The receiver turns them into ``{code, message}`` answers in one place (``views``); the relay's
client turns the receiver's answers back into the same classes (``transport``), so both sides
speak of the same failures by the same names::

    SyncError                   sync_error        500
    ├── BadRequest              bad_request       400  a body the receiver cannot read
    ├── Unauthenticated         unauthenticated   401  HMAC missing, wrong, or stale
    ├── CursorMismatch          cursor_mismatch   409  ``from`` is not the stored cursor
    ├── SchemaDrift             schema_drift      409  columns differ from the registration
    ├── NotSent                 not_sent          409  no stream carries the table that way
    ├── UnsupportedKey          unsupported_key   400  reconcile cannot order this key
    ├── CaptureMissing          capture_missing   500  an outbound table has no triggers
    ├── MalformedStatus         malformed_status  502  a status document that is not one
    └── TransportError          transport_error   502  the receiver did not answer usefully
        ├── ReceiverUnreachable receiver_unreachable    connect/read failed after retries
        └── ReceiverError       (the receiver's code)   any other non-2xx answer

Configuration errors are Django's ``ImproperlyConfigured``: they stop start-up instead.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strangler.sync.position import Position

__all__ = [
    "BadRequest",
    "CaptureMissing",
    "CursorMismatch",
    "MalformedStatus",
    "NotSent",
    "ReceiverError",
    "ReceiverUnreachable",
    "SchemaDrift",
    "SyncError",
    "TransportError",
    "Unauthenticated",
    "UnsupportedKey",
]


class SyncError(Exception):
    """Root of the sync's errors; ``status`` and ``code`` are what the receiver answers."""

    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "sync_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


class BadRequest(SyncError):
    status = 400
    default_code = "bad_request"


class Unauthenticated(SyncError):
    status = 401
    default_code = "unauthenticated"


class CursorMismatch(SyncError):
    """The batch does not start at the receiver's cursor; ``cursor`` is where it stands."""

    status = 409
    default_code = "cursor_mismatch"

    def __init__(self, message: str, *, cursor: Position) -> None:
        super().__init__(message)
        self.cursor = cursor

    def as_json(self) -> dict[str, Any]:
        return {**super().as_json(), "cursor": self.cursor.as_json()}


class SchemaDrift(SyncError):
    """Columns of a synced table differ from its registration; the stream pauses."""

    status = 409
    default_code = "schema_drift"


class NotSent(SyncError):
    """A copy of a table was asked of a node that sends that table nowhere near the asker."""

    status = 409
    default_code = "not_sent"


class UnsupportedKey(SyncError):
    """Reconcile cannot compare this table by key ranges: its primary key is of a kind it does
    not order (only integer, UUID and text keys), or the two sides' keys are not comparable."""

    status = 400
    default_code = "unsupported_key"


class CaptureMissing(SyncError):
    """An outbound table has no capture triggers: its writes are not being recorded."""

    default_code = "capture_missing"


class MalformedStatus(SyncError):
    """A sync status document with a field missing or of the wrong type (``status_document``):
    like a ``TransportError``, a node answered something other than what was asked."""

    status = 502
    default_code = "malformed_status"


class TransportError(SyncError):
    status = 502
    default_code = "transport_error"


class ReceiverUnreachable(TransportError):
    default_code = "receiver_unreachable"


class ReceiverError(TransportError):
    """A non-2xx answer the relay has no better name for; ``status`` is the receiver's."""

    def __init__(self, message: str, *, code: str, http_status: int) -> None:
        super().__init__(message, code=code)
        self.http_status = http_status
