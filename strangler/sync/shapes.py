"""What reconcile reads of a synced table on one node: its key and its columns, in its names.

A shape is built from the model and the stream's registration (wire names), once per table and
call. Each column carries the kind that decides how it is rendered as text for the row hashes
(``row_hash``); the primary key's kind decides how key ranges are ordered (``keys``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.db import models

from strangler.sync.errors import UnsupportedKey
from strangler.sync.fields import column_of, pk_of

__all__ = ["Column", "KeyKind", "Kind", "TableShape", "column_kind", "key_kind"]

Kind = Literal["int", "text", "bool", "decimal", "datetime", "date", "uuid", "other"]
# The keys reconcile orders: every engine agrees on the order of integers and of UUIDs (their
# bytes); text is ordered by a collation, which two databases may not share (``keys``).
KeyKind = Literal["int", "uuid", "text"]

_INT_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)
_TEXT_TYPES = frozenset(
    {"CharField", "TextField", "SlugField", "EmailField", "URLField", "FilePathField"}
)


@dataclass(frozen=True)
class Column:
    """One synced column: its name on the wire, its local column, how it is rendered."""

    wire: str
    column: str
    attname: str
    kind: Kind
    places: int = 0


@dataclass(frozen=True)
class TableShape:
    """What a node checksums for one synced table, in its own names."""

    model: type[models.Model]
    sync_name: str  # ``strangler_sync_row.table_name`` of this table on this node
    db_table: str
    pk_column: str
    pk_attname: str
    columns: tuple[Column, ...]
    key: KeyKind = "int"

    @property
    def pk_field(self) -> models.Field[Any, Any]:
        return pk_of(self.model)

    @classmethod
    def for_model(
        cls, model: type[models.Model], *, sync_name: str, wire_to_attname: dict[str, str]
    ) -> TableShape:
        """The shape of ``model`` synced under ``sync_name``; columns map wire name → field.

        Raises ``UnsupportedKey`` when the primary key is of a kind reconcile cannot order.
        """
        pk = pk_of(model)
        key = key_kind(pk, label=model._meta.label)
        columns = []
        for wire, name in wire_to_attname.items():
            field = model._meta.get_field(name)
            assert isinstance(field, models.Field)
            if field.primary_key:
                continue  # the key is the first part of every row text already
            places = getattr(field, "decimal_places", 0) or 0
            columns.append(
                Column(
                    wire=wire,
                    column=column_of(field),
                    attname=field.attname,
                    kind=column_kind(field),
                    places=places,
                )
            )
        return cls(
            model=model,
            sync_name=sync_name,
            db_table=model._meta.db_table,
            pk_column=column_of(pk),
            pk_attname=pk.attname,
            columns=tuple(sorted(columns, key=lambda c: c.wire)),
            key=key,
        )


def column_kind(field: models.Field[Any, Any]) -> Kind:
    internal = field.get_internal_type()
    if isinstance(field, models.ForeignKey):
        target = field.target_field
        return column_kind(target) if isinstance(target, models.Field) else "other"
    if internal in _INT_TYPES:
        return "int"
    if internal in _TEXT_TYPES:
        return "text"
    if internal == "BooleanField":
        return "bool"
    if internal == "DecimalField":
        return "decimal"
    if internal == "DateTimeField":
        return "datetime"
    if internal == "DateField":
        return "date"
    if internal == "UUIDField":
        return "uuid"
    return "other"


def key_kind(field: models.Field[Any, Any], *, label: str) -> KeyKind:
    """How reconcile orders ``field`` as a primary key; ``UnsupportedKey`` when it cannot."""
    kind = column_kind(field)
    if kind == "int" or kind == "uuid" or kind == "text":
        return kind
    raise UnsupportedKey(
        f"{label}: reconcile compares integer, UUID and text primary keys, "
        f"not {field.get_internal_type()}"
    )
