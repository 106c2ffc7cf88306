"""The receiver's apply path (docs/sync.md, "Apply").

``apply_batch`` is what ``POST /internal/sync/apply`` runs: one transaction that locks the
source's cursor row, checks ``from`` against it, applies the changes and moves the cursor.
``apply_changes`` is the part without a cursor, for every caller that moves rows by the same
rules (backfill, reconcile's repair, tests): versioned, order-insensitive, never echoed, a
failing row parked as a dead letter while the rest goes on.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from django.db import connection, models, transaction
from django.utils import timezone

from strangler.sync.bulk import Winner, rows_apply_bulk, winner_prepare
from strangler.sync.deadletters import deadletter_park, parked_keys, references_retry
from strangler.sync.errors import CursorMismatch
from strangler.sync.marking import applying
from strangler.sync.models import Cursor
from strangler.sync.position import Position
from strangler.sync.rows import RowFailed, VersionCache, row_apply
from strangler.sync.schema import InboundTarget, inbound_targets
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
        versions = VersionCache.empty()
        versions.preload(changes, targets)
        parked = parked_keys(source=source, keys={(c.table, c.pk) for c in changes})
        ordered = _fk_order(changes, targets)
        counts = None if parked else _apply_fast(ordered, targets, versions, now)
        if counts is None:
            counts = _apply_rows(source, ordered, targets, versions, parked, now)
        retried = references_retry(source=source, now=now).replayed
        _sequences_advance(targets.values())
    return replace(counts, retried=retried)


def _apply_fast(
    ordered: Sequence[RowChange],
    targets: Mapping[str, InboundTarget],
    versions: VersionCache,
    now: dt.datetime,
) -> ApplyCounts | None:
    """The batch in a few statements (``bulk``), or ``None`` when a row needs the slow path."""
    best: dict[tuple[str, str], Winner] = {}
    stale = 0
    try:
        for change in ordered:
            winner = winner_prepare(change, targets[change.table], versions)
            key = (winner.target.table, winner.key)
            stored = versions.get(*key)
            current = best.get(key)
            if (stored is not None and change.version <= stored) or (
                current is not None and change.version <= current.change.version
            ):
                stale += 1
                continue
            if current is not None:
                stale += 1  # superseded within the batch
            best[key] = winner
        by_change = {id(w.change): w for w in best.values()}
        winners = [by_change[id(c)] for c in _fk_order([w.change for w in best.values()], targets)]
        with transaction.atomic():
            written = rows_apply_bulk(winners, now=now)
    except RowFailed:
        return None
    for key, winner in best.items():
        versions.versions[key] = winner.change.version  # or a newer one, when not written
    return ApplyCounts(applied=len(written), stale=stale + len(best) - len(written))


def _apply_rows(
    source: str,
    ordered: Sequence[RowChange],
    targets: Mapping[str, InboundTarget],
    versions: VersionCache,
    parked: dict[tuple[str, str], int],
    now: dt.datetime,
) -> ApplyCounts:
    """Row by row, each in a savepoint: a failing row is parked and the rest goes on."""
    applied = stale = dead = 0
    for change in ordered:
        head = parked.get((change.table, change.pk))
        if head is not None:
            deadletter_park(
                source=source,
                change=change,
                code="parked_behind",
                error=f"an earlier change to this row is parked (dead letter #{head})",
                now=now,
            )
            dead += 1
            continue
        try:
            with transaction.atomic():
                outcome = row_apply(change, targets[change.table], versions=versions, now=now)
        except RowFailed as exc:
            letter = deadletter_park(
                source=source, change=change, code=exc.code, error=exc.message, now=now
            )
            parked[(change.table, change.pk)] = letter.id
            dead += 1
            continue
        if outcome == "applied":
            applied += 1
        else:
            stale += 1
    return ApplyCounts(applied=applied, stale=stale, dead_lettered=dead)


def _fk_order(
    changes: Sequence[RowChange], targets: Mapping[str, InboundTarget]
) -> list[RowChange]:
    """Writes parents first, deletes children first; versions make the order otherwise free.

    The relay coalesces a row to its last position in the batch, so a child written after its
    parent can arrive before it; applying by foreign-key depth keeps such a batch whole.
    """
    depth = _depths(tuple(sorted({t.model for t in targets.values()}, key=str)))
    writes = [c for c in changes if not c.deleted]
    deletes = [c for c in changes if c.deleted]
    writes.sort(key=lambda c: depth[targets[c.table].model])
    deletes.sort(key=lambda c: -depth[targets[c.table].model])
    return writes + deletes


@functools.lru_cache(maxsize=64)
def _depths(models_: tuple[type[models.Model], ...]) -> dict[type[models.Model], int]:
    known = set(models_)
    depths: dict[type[models.Model], int] = {}

    def depth(model: type[models.Model], seen: frozenset[type[models.Model]]) -> int:
        if model in depths:
            return depths[model]
        parents = [
            f.related_model
            for f in model._meta.concrete_fields
            if f.is_relation and f.related_model in known and f.related_model not in seen
        ]
        value = 1 + max(
            (depth(p, seen | {model}) for p in parents if isinstance(p, type)), default=-1
        )
        depths[model] = value
        return value

    for model in models_:
        depth(model, frozenset())
    return depths


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
