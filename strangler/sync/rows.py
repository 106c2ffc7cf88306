"""An incoming row change made ready to write, and the ways a row can fail to be applied.

``row_key`` reads the sender's primary key as this database's capture trigger writes it (the
text a version row and a reconcile compare); ``row_prepare`` reads the values through the
local fields. A value a field refuses, and every database error a write raises for one row,
become ``RowFailed`` with a stable code, which parks the change as a dead letter.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, DataError, IntegrityError, connections, models

from strangler.sync.fate import RowKey
from strangler.sync.fields import column_of
from strangler.sync.schema import InboundTarget
from strangler.sync.wire import RowChange

__all__ = ["PreparedRow", "RowFailed", "row_failures", "row_key", "row_prepare"]

# PostgreSQL SQLSTATEs that name the usual failures precisely.
_UNIQUE_VIOLATION = "23505"
_FOREIGN_KEY_VIOLATION = "23503"
# MySQL/MariaDB error numbers for the same: a duplicate key; a child row without its parent,
# and a parent row deleted from under its children.
_MYSQL_DUPLICATE_ENTRY = 1062
_MYSQL_FOREIGN_KEY_ERRORS = (1451, 1452)


class RowFailed(Exception):
    """A row that cannot be applied as it stands: ``code`` is stable, ``message`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PreparedRow:
    """A change that is to be written, with its key and values read by the local fields."""

    change: RowChange
    target: InboundTarget
    pk_value: Any
    key: str  # the key's text, as the capture trigger stores it
    values: tuple[tuple[models.Field[Any, Any], Any], ...]  # empty for a tombstone

    @property
    def row(self) -> RowKey:
        return (self.target.table, self.key)

    @property
    def fields(self) -> tuple[models.Field[Any, Any], ...]:
        return tuple(field for field, _ in self.values)


def row_key(target: InboundTarget, pk_text: str) -> tuple[Any, str]:
    """The local primary-key value and its text as this database's capture trigger writes it."""
    try:
        value = target.pk.to_python(pk_text)
    except ValidationError as exc:
        raise RowFailed("invalid_value", f"pk {pk_text!r}: {'; '.join(exc.messages)}") from None
    # The real wrapper, not the ``connection`` proxy: this runs for every row of a batch.
    prepared = target.pk.get_db_prep_value(value, connections[DEFAULT_DB_ALIAS], prepared=False)
    return value, str(prepared)


def row_prepare(
    change: RowChange, target: InboundTarget, *, pk_value: Any, key: str
) -> PreparedRow:
    """``change`` with its values read by the local fields; ``RowFailed`` if one is refused."""
    values = []
    for column, raw in ({} if change.deleted else change.data or {}).items():
        field = target.fields[column]
        try:
            python = field.to_python(raw)
        except ValidationError as exc:
            raise RowFailed(
                "invalid_value", f"{target.table}.{column_of(field)}: {'; '.join(exc.messages)}"
            ) from None
        values.append((field, python))
    return PreparedRow(
        change=change, target=target, pk_value=pk_value, key=key, values=tuple(values)
    )


@contextlib.contextmanager
def row_failures() -> Iterator[None]:
    """Turn the database errors a row's write can raise into ``RowFailed``."""
    try:
        yield
    except IntegrityError as exc:
        raise RowFailed(_integrity_code(exc), str(exc).strip()) from None
    except DataError as exc:
        raise RowFailed("invalid_value", str(exc).strip()) from None


def _integrity_code(exc: IntegrityError) -> str:
    state = getattr(exc.__cause__, "sqlstate", None)
    args = getattr(exc.__cause__, "args", ())
    errno = args[0] if args and isinstance(args[0], int) else None
    text = str(exc)
    if (
        state == _UNIQUE_VIOLATION
        or errno == _MYSQL_DUPLICATE_ENTRY
        or text.startswith("UNIQUE constraint failed")
    ):
        return "unique_collision"
    if (
        state == _FOREIGN_KEY_VIOLATION
        or errno in _MYSQL_FOREIGN_KEY_ERRORS
        or "FOREIGN KEY constraint failed" in text
    ):
        return "missing_reference"
    return "integrity_error"
