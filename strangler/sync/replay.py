"""Signatures a receiver has seen, so that a captured sync call cannot be replayed.

A signature verifies for ``SIGNATURE_WINDOW_SECONDS`` around its timestamp; the receiver records
each one it accepts until that window has passed and refuses one already recorded
(``replayed``). The record is a table in the node's own database, not a per-process memory or
cache: gunicorn's workers and every replica of a node share it, and on the embedded default
(SQLite) there is no cache server to share instead. The insert is its own short transaction
before the view's work; its primary key makes two copies of one call arriving at once on two
workers conflict, so exactly one goes through. Expired rows are deleted on the way (an indexed
range delete, usually empty): the table holds at most the calls of the last window.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from strangler.sync.errors import Unauthenticated
from strangler.sync.models import SeenSignature
from strangler.sync.signing import SIGNATURE_WINDOW_SECONDS, VerifiedCall

__all__ = ["signature_record"]


def signature_record(call: VerifiedCall, *, now: float) -> None:
    """Record ``call``'s signature; ``Unauthenticated`` (``replayed``) when seen before."""
    expires = dt.datetime.fromtimestamp(call.timestamp + SIGNATURE_WINDOW_SECONDS, tz=dt.UTC)
    try:
        with transaction.atomic():
            SeenSignature.objects.filter(
                expires_at__lt=dt.datetime.fromtimestamp(now, tz=dt.UTC)
            ).delete()
            SeenSignature.objects.create(signature=call.signature, expires_at=expires)
    except IntegrityError:
        raise Unauthenticated(
            "This signature was already used: every call is signed afresh, so this is a "
            "replayed request.",
            code="replayed",
        ) from None
