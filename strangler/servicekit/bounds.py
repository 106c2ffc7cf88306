"""Integer input bounded by the column it ends up in, the same on every database we run on.

A JSON integer has no size; a column has. Unbounded, ``"stock": 10**23`` got past validation
and failed in the database: SQLite's driver raises ``OverflowError``, PostgreSQL a
``DataError``, and the client saw a 500 instead of a 400 naming the field. The bound is not
simply the live connection's (``connection.ops.integer_field_range``): SQLite stores 64 bits
in a column PostgreSQL keeps to 32, so a value the SQLite node accepted would then fail the
sync into the PostgreSQL one. The bound is the narrowest of the two, which is Django's base
range for the field's type (what PostgreSQL enforces), narrowed further if the live backend
is narrower still. The API then accepts the same values whichever database a node runs on,
and the OpenAPI schema does not change with ``DATABASE_URL``.

- ``column_range``: the bounds of a model field type, e.g. ``"PositiveIntegerField"``.
- ``BoundedIntegerField``: a declared serializer field, bounded by the column it feeds.
- ``BoundedModelSerializer``: the ``ModelSerializer`` to derive from; every integer field it
  builds from a model field gets that field's bounds, every primary-key relation its key's,
  and every field it builds reads JSON types strictly (``strict_fields``).
- ``DatabaseKeyConverter``: the path converter ``<key:pk>`` (``register_key_converter``); a
  number no key column holds matches no route (404), instead of reaching a lookup the driver
  cannot bind.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, TypeVar

from django.db import connection, models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.urls import register_converter
from django.urls.converters import get_converters
from rest_framework import serializers
from rest_framework.utils.model_meta import RelationInfo

from strangler.servicekit.strict_fields import (
    STRICT_FIELD_MAPPING,
    StrictChoiceField,
    StrictIntegerField,
)

__all__ = [
    "KEY_COLUMN",
    "KEY_SCHEMA",
    "BoundedIntegerField",
    "BoundedModelSerializer",
    "DatabaseKeyConverter",
    "column_range",
    "register_key_converter",
]

_M = TypeVar("_M", bound=models.Model)

# Both projects set DEFAULT_AUTO_FIELD to BigAutoField: every row key is one.
KEY_COLUMN = "BigAutoField"


# A key as the OpenAPI schema states it, for a key a client sends outside a serializer
# (a query filter); the settings' PATH_CONVERTER_OVERRIDES say the same for <key:...>.
KEY_SCHEMA: dict[str, Any] = {
    "type": "integer",
    "format": "int64",
    "minimum": 1,
    "maximum": BaseDatabaseOperations.integer_field_ranges[KEY_COLUMN][1],
}


def column_range(internal_type: str) -> tuple[int, int]:
    """The values a column of ``internal_type`` holds on every supported backend."""
    low, high = BaseDatabaseOperations.integer_field_ranges[internal_type]
    live_low, live_high = connection.ops.integer_field_range(internal_type)
    if live_low is not None:
        low = max(low, live_low)
    if live_high is not None:
        high = min(high, live_high)
    return low, high


def _narrowed(kwargs: dict[str, Any], internal_type: str) -> dict[str, Any]:
    low, high = column_range(internal_type)
    given_low, given_high = kwargs.get("min_value"), kwargs.get("max_value")
    return {
        **kwargs,
        "min_value": low if given_low is None else max(low, given_low),
        "max_value": high if given_high is None else min(high, given_high),
    }


class BoundedIntegerField(StrictIntegerField):
    """A JSON integer (``StrictIntegerField``) no larger than ``column`` stores.

    ``column`` is the model field type the value is written to or compared with
    (``"PositiveIntegerField"`` for a stock count, ``KEY_COLUMN`` for an id); a ``min_value``
    or ``max_value`` given as well narrows the range further, never widens it.
    """

    def __init__(self, *, column: str, **kwargs: Any) -> None:
        super().__init__(**_narrowed(kwargs, column))


# A ModelSerializer whose integer fields built from model fields have the column's bounds.
# DRF already reads the model field's validators, but those carry the live connection's range
# (64 bits on SQLite); this applies column_range instead, and bounds writable primary-key
# relations too, so that their schema says which ids can exist. Its fields read JSON types as
# the schema states them (strict_fields). No docstring on purpose: drf-spectacular would
# print it as the description of every serializer without its own.
class BoundedModelSerializer(serializers.ModelSerializer[_M]):
    serializer_field_mapping = STRICT_FIELD_MAPPING
    serializer_choice_field = StrictChoiceField

    def build_standard_field(
        self, field_name: str, model_field: models.Field[Any, Any]
    ) -> tuple[type[serializers.Field[Any, Any, Any, Any]], dict[str, Any]]:
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        internal_type = model_field.get_internal_type()
        if (
            not kwargs.get("read_only")
            and issubclass(field_class, serializers.IntegerField)
            and internal_type in BaseDatabaseOperations.integer_field_ranges
        ):
            kwargs = _narrowed(kwargs, internal_type)
        return field_class, kwargs

    def build_relational_field(
        self, field_name: str, relation_info: RelationInfo
    ) -> tuple[type[serializers.Field[Any, Any, Any, Any]], dict[str, Any]]:
        field_class, kwargs = super().build_relational_field(field_name, relation_info)
        if not kwargs.get("read_only") and issubclass(
            field_class, serializers.PrimaryKeyRelatedField
        ):
            # DRF builds a PrimaryKeyRelatedField only when the relation targets the key.
            key_type = relation_info.related_model._meta.pk.get_internal_type()
            if key_type in BaseDatabaseOperations.integer_field_ranges:
                kwargs["pk_field"] = BoundedIntegerField(column=key_type, min_value=1)
        return field_class, kwargs

    def include_extra_kwargs(
        self, kwargs: MutableMapping[str, Any], extra_kwargs: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        # DRF drops min_value and max_value from a field made read-only by Meta; do the same
        # with the key bounds of a relation, which only validate input.
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if kwargs.get("read_only"):
            kwargs.pop("pk_field", None)
        return kwargs


class DatabaseKeyConverter:
    """``<key:pk>``: a row key in a path, as an ``int`` no key column is too small for.

    Like Django's ``int`` converter, but a number no key can be (0, or beyond ``KEY_COLUMN``'s
    range) matches no route: Django answers 404, as for any path naming nothing.
    """

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        key = int(value)
        if not 1 <= key <= column_range(KEY_COLUMN)[1]:
            raise ValueError(f"{value} is outside the range of a row key")
        return key

    def to_url(self, value: int) -> str:
        return str(value)


def register_key_converter() -> None:
    """Make ``<key:...>`` available to ``path()``; call it in each URLconf that uses it."""
    # Registering a name twice is deprecated (an error from Django 6.0): once per process.
    if "key" not in get_converters():
        register_converter(DatabaseKeyConverter, "key")
