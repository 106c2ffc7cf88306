"""What becomes of each incoming change: the receiver's version rule, stated once.

Pure: no Django, no database. The apply path reads the stored versions and the parked keys
first, asks ``fates_judge`` which changes to write, and only then touches rows. The rule:

- a change to a key with a parked dead letter is parked behind it, so the order per key holds;
- a change whose key cannot be read here is refused (parked as an invalid value);
- a change is written only if its version is above the stored one (``version_is_newer``);
  lower or equal is stale, which makes apply idempotent and order-insensitive;
- of several changes to one row in a batch, only the highest version is written (the first of
  equal ones); the others are superseded.

The SQL that writes a version row (``bulk.VERSION_UPSERT``) applies the same comparison again,
atomically, because another transaction may commit a newer version after it was read: a change
that loses there is reported stale by the writer.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Fate", "Incoming", "RowKey", "fates_judge", "version_is_newer"]

# (table, key text): the sender's pair names a dead letter, the local pair a version row.
RowKey = tuple[str, str]
Fate = Literal["write", "stale", "superseded", "parked_behind", "refused"]


@dataclass(frozen=True)
class Incoming:
    """One incoming change as the judge sees it."""

    sender: RowKey  # (sender table, pk as sent): where its dead letters are parked
    row: RowKey | None  # (local table, local key text): where its version is kept; None: unreadable
    version: int


def version_is_newer(incoming: int, stored: int | None) -> bool:
    """The version rule: a change moves a row forward only, and never over an equal version."""
    return stored is None or incoming > stored


def fates_judge(
    incoming: Sequence[Incoming],
    *,
    stored: Mapping[RowKey, int],
    parked: Collection[RowKey],
) -> list[Fate]:
    """The fate of each change in ``incoming``, in its order.

    ``stored`` holds the versions kept here by local row key (a key without a version row is
    absent); ``parked`` the sender keys that have a parked dead letter.
    """
    fates: list[Fate] = []
    best: dict[RowKey, int] = {}  # row -> index of the change that writes it so far
    for index, change in enumerate(incoming):
        if change.sender in parked:
            fates.append("parked_behind")
        elif change.row is None:
            fates.append("refused")
        elif not version_is_newer(change.version, stored.get(change.row)):
            fates.append("stale")
        else:
            current = best.get(change.row)
            if current is None or version_is_newer(change.version, incoming[current].version):
                if current is not None:
                    fates[current] = "superseded"
                best[change.row] = index
                fates.append("write")
            else:
                fates.append("superseded")
    return fates
