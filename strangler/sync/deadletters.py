"""Dead letters: changes parked instead of applied, and how they leave (docs/sync.md, "Apply").

A row that fails (a collision on another unique key, a missing foreign-key target, a value the
local field refuses) is parked; every later change to the same key is parked behind it, so the
order per key holds. ``deadletters_replay`` re-applies parked changes in order per key and stops
a key at its first failure; ``deadletters_drop`` discards them (the record stays, ``dropped``).

``missing_reference`` letters are retried after every batch (``references_retry``): the relay
sends rows as they are now, so a row can reference a parent whose own change is still in a
later batch; it goes through as soon as the parent arrives. Other failures wait for a person.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from strangler.sync.errors import SchemaDrift
from strangler.sync.fate import fates_judge
from strangler.sync.marking import applying
from strangler.sync.models import DeadLetter
from strangler.sync.preload import changes_preload
from strangler.sync.rows import RowFailed
from strangler.sync.schema import inbound_target
from strangler.sync.settle import fates_settle
from strangler.sync.wire import RowChange

__all__ = [
    "AUTO_RETRY_KEYS",
    "ReplayResult",
    "deadletter_park",
    "deadletters_drop",
    "deadletters_replay",
    "parked_keys",
    "references_retry",
]

# Keys whose head letter waits for a reference, retried at the end of each batch: enough for
# a batch's worth of children arriving before their parents, bounded so a receiver with
# thousands of stuck letters does not spend every batch retrying them.
AUTO_RETRY_KEYS = 200
_PARKED = DeadLetter.Status.PARKED


@dataclass(frozen=True)
class ReplayResult:
    replayed: int = 0  # letters that left the queue (applied or found stale)
    failed: int = 0  # letters that failed again (their key stops there)


def deadletter_park(
    *, source: str, change: RowChange, code: str, error: str, now: dt.datetime
) -> DeadLetter:
    return DeadLetter.objects.create(
        source=source,
        table_name=change.table,
        row_pk=change.pk,
        version=change.version,
        deleted=change.deleted,
        payload=None if change.deleted else dict(change.data or {}),
        code=code,
        error=error,
        created_at=now,
        updated_at=now,
    )


def parked_keys(*, source: str, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Of ``keys`` (sender table, sender pk), those with a parked letter: key -> first id."""
    wanted: dict[str, list[str]] = {}
    for table, pk in keys:
        wanted.setdefault(table, []).append(pk)
    heads: dict[tuple[str, str], int] = {}
    for table, pks in wanted.items():
        if connection.vendor == "postgresql":
            # Asked on every apply: one parameter for the keys, not one each (bulk.py).
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, pk FROM {DeadLetter._meta.db_table} WHERE source = %s "  # noqa: S608
                    "AND table_name = %s AND status = %s "
                    "AND pk IN (SELECT json_array_elements_text(%s::json)) ORDER BY id",
                    [source, table, str(_PARKED), json.dumps(pks)],
                )
                found = cursor.fetchall()
        else:
            found = list(
                DeadLetter.objects.filter(
                    source=source, table_name=table, row_pk__in=pks, status=_PARKED
                )
                .order_by("id")
                .values_list("id", "row_pk")
            )
        for letter_id, pk in found:
            heads.setdefault((table, pk), letter_id)
    return heads


def deadletters_replay(
    *, ids: Sequence[int] | None = None, now: dt.datetime | None = None
) -> ReplayResult:
    """Re-apply parked letters (all, or those of ``ids`` and the ones before them per key)."""
    with transaction.atomic(), applying():
        letters = DeadLetter.objects.filter(status=_PARKED).order_by("id")
        if ids is not None:
            chosen = list(DeadLetter.objects.filter(id__in=ids, status=_PARKED))
            upto = {(d.source, d.table_name, d.row_pk): d.id for d in chosen}
            letters = letters.filter(row_pk__in={key[2] for key in upto})
            todo = [d for d in letters if d.id <= upto.get((d.source, d.table_name, d.row_pk), -1)]
        else:
            todo = list(letters)
        return _replay(todo, now=now or timezone.now())


def references_retry(*, source: str, now: dt.datetime) -> ReplayResult:
    """Retry keys whose first parked letter waits for a reference (inside an apply)."""
    letters = list(
        DeadLetter.objects.filter(source=source, status=_PARKED).order_by("id")[
            : AUTO_RETRY_KEYS * 4
        ]
    )
    heads: dict[tuple[str, str], DeadLetter] = {}
    for letter in letters:
        heads.setdefault((letter.table_name, letter.row_pk), letter)
    waiting = [key for key, head in heads.items() if head.code == "missing_reference"][
        :AUTO_RETRY_KEYS
    ]
    keys = set(waiting)
    todo = [d for d in letters if (d.table_name, d.row_pk) in keys]
    return _replay(todo, now=now) if todo else ReplayResult()


def deadletters_drop(
    *, ids: Sequence[int] | None = None, reason: str = "", now: dt.datetime | None = None
) -> int:
    """Discard parked letters (all, or ``ids``); they stay on record as ``dropped``."""
    letters = DeadLetter.objects.filter(status=_PARKED)
    if ids is not None:
        letters = letters.filter(id__in=ids)
    note = f"dropped: {reason}" if reason else "dropped"
    updated = 0
    for letter in letters:
        letter.status = DeadLetter.Status.DROPPED
        letter.error = f"{letter.error}\n{note}"
        letter.updated_at = now or timezone.now()
        letter.save(update_fields=["status", "error", "updated_at"])
        updated += 1
    return updated


def _replay(letters: Sequence[DeadLetter], *, now: dt.datetime) -> ReplayResult:
    """Each letter's change by apply's path, in order; a key stops at its first failure."""
    stopped: set[tuple[str, str, str]] = set()
    replayed = failed = 0
    for letter in letters:
        key = (letter.source, letter.table_name, letter.row_pk)
        if key in stopped:
            continue
        change = RowChange(
            table=letter.table_name,
            pk=letter.row_pk,
            version=letter.version,
            deleted=letter.deleted,
            data=None if letter.deleted else dict(letter.payload or {}),
        )
        letter.attempts += 1
        letter.updated_at = now
        try:
            sent = None if letter.deleted else tuple((letter.payload or {}).keys())
            target = inbound_target(letter.source, letter.table_name, sent)
            targets = {change.table: target}
            loaded = changes_preload([change], targets)
            fates = fates_judge(loaded.incoming, stored=loaded.stored, parked=())
            (outcome,) = fates_settle(
                [change], targets, keys=loaded.keys, fates=fates, parked={}, now=now
            )
        except SchemaDrift as exc:
            outcome = RowFailed(exc.code, exc.message)
        if isinstance(outcome, RowFailed):
            letter.code = outcome.code
            letter.error = outcome.message
            stopped.add(key)
            failed += 1
        else:
            letter.status = DeadLetter.Status.REPLAYED
            replayed += 1
        letter.save(update_fields=["attempts", "updated_at", "code", "error", "status"])
    return ReplayResult(replayed=replayed, failed=failed)
