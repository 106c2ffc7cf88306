"""The receiver's apply path (docs/sync.md, "Apply").

``apply_batch`` is what ``POST /internal/sync/apply`` runs: one transaction that locks the
source's cursor row, checks ``from`` against it, applies the changes and moves the cursor.
``apply_changes`` is the part without a cursor, for every caller that moves rows by the same
rules (backfill, reconcile's repair, tests): versioned, order-insensitive, never echoed, a
failing row parked as a dead letter while the rest goes on.

Both take one path, as a dead letter's replay does: preload the keys, stored versions and
parked letters; judge each change by the version rule (``fate``); write the winners
(``settle``, through ``writers``); park what failed (``deadletters``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.utils import timezone

from strangler.sync.deadletters import deadletter_park, parked_keys, references_retry
from strangler.sync.errors import CursorMismatch
from strangler.sync.fate import fates_judge
from strangler.sync.marking import applying
from strangler.sync.models import Cursor
from strangler.sync.position import Position
from strangler.sync.preload import changes_preload
from strangler.sync.rows import RowFailed
from strangler.sync.schema import InboundTarget, inbound_targets
from strangler.sync.settle import fates_settle
from strangler.sync.wire import ApplyRequest, ApplyResult, RowChange

__all__ = ["ApplyCounts", "apply_batch", "apply_changes", "cursor_get"]


@dataclass(frozen=True)
class ApplyCounts:
    applied: int = 0
    stale: int = 0
    dead_lettered: int = 0
    retried: int = 0  # parked letters that went through after this batch


def cursor_get(*, source: str) -> Position:
    """Where ``source``'s stream stands here (``[0, 0]`` before its first batch)."""
    row = Cursor.objects.filter(source=source).values_list("xid", "seq").first()
    return Position(xid=row[0], seq=row[1]) if row else Position(xid=0, seq=0)


def apply_batch(request: ApplyRequest, *, now: dt.datetime | None = None) -> ApplyResult:
    """Apply one batch and advance the cursor, or answer a duplicate, or raise a mismatch."""
    now = now or timezone.now()
    targets = inbound_targets(request.source, request.columns)  # SchemaDrift before any lock
    with transaction.atomic():
        cursor, _ = Cursor.objects.select_for_update().get_or_create(source=request.source)
        stored = Position(xid=cursor.xid, seq=cursor.seq)
        if request.end <= stored:
            # A resent batch (a retry after a lost answer, a repeated task): nothing to do.
            return ApplyResult(cursor=stored, duplicate=True, heartbeat_at=cursor.heartbeat_at)
        if request.start != stored:
            raise CursorMismatch(
                f"the batch starts at {request.start} but {request.source}'s cursor here is "
                f"{stored}; resend from the cursor",
                cursor=stored,
            )
        counts = _apply(request.source, request.changes, targets, now=now)
        cursor.xid, cursor.seq = request.end.xid, request.end.seq
        if request.heartbeat_at is not None and (
            cursor.heartbeat_at is None or request.heartbeat_at > cursor.heartbeat_at
        ):
            cursor.heartbeat_at = request.heartbeat_at
        cursor.applied_at = now
        cursor.batches += 1
        cursor.applied += counts.applied
        cursor.stale += counts.stale
        cursor.dead_lettered += counts.dead_lettered
        cursor.save()
    return ApplyResult(
        cursor=request.end,
        applied=counts.applied,
        stale=counts.stale,
        dead_lettered=counts.dead_lettered,
        heartbeat_at=cursor.heartbeat_at,
    )


def apply_changes(
    *,
    source: str,
    changes: Sequence[RowChange],
    columns: Mapping[str, Sequence[str]],
    now: dt.datetime | None = None,
) -> ApplyCounts:
    """Apply ``changes`` from ``source`` by the stream's rules, without touching its cursor.

    ``columns`` lists the sender's columns per table, as a batch does; a table that does not
    fit its registration raises ``SchemaDrift`` before anything is written.
    """
    targets = inbound_targets(source, columns)
    return _apply(source, changes, targets, now=now or timezone.now())


def _apply(
    source: str,
    changes: Sequence[RowChange],
    targets: Mapping[str, InboundTarget],
    *,
    now: dt.datetime,
) -> ApplyCounts:
    with transaction.atomic(), applying():
        loaded = changes_preload(changes, targets)
        parked = parked_keys(source=source, keys={change.sender for change in loaded.incoming})
        fates = fates_judge(loaded.incoming, stored=loaded.stored, parked=parked)
        settled = fates_settle(
            changes, targets, keys=loaded.keys, fates=fates, parked=parked, now=now
        )
        for change, outcome in zip(changes, settled, strict=True):
            if isinstance(outcome, RowFailed):
                deadletter_park(
                    source=source, change=change, code=outcome.code, error=outcome.message, now=now
                )
        retried = references_retry(source=source, now=now).replayed
        _sequences_advance(targets.values())
    return ApplyCounts(
        applied=settled.count("applied"),
        stale=settled.count("stale"),
        dead_lettered=sum(isinstance(outcome, RowFailed) for outcome in settled),
        retried=retried,
    )


def _sequences_advance(targets: Iterable[InboundTarget]) -> None:
    """Keep PostgreSQL's id sequences above ids that arrived by sync.

    Rows inserted with explicit ids leave the sequence behind; the first local insert after a
    cutover would then collide with a synced row. (SQLite's AUTOINCREMENT follows by itself.)
    """
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for target in targets:
            if not isinstance(
                target.pk, models.AutoField | models.BigAutoField | models.SmallAutoField
            ):
                continue
            cursor.execute(
                "SELECT pg_get_serial_sequence(%s, %s)", [quote(target.table), target.pk_column]
            )
            sequence = cursor.fetchone()[0]
            if sequence is None:
                continue
            cursor.execute(
                f"SELECT setval(%s, m) FROM (SELECT MAX({quote(target.pk_column)}) AS m "  # noqa: S608
                f"FROM {quote(target.table)}) AS t WHERE m >= (SELECT last_value FROM {sequence})",
                [sequence],
            )
