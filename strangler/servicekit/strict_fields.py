"""Request fields that read a JSON value only as the OpenAPI schema types it.

DRF's fields read JSON scalars loosely: a ``CharField`` stores ``0`` as ``"0"``, a
``BooleanField`` reads ``0``, ``"yes"`` and ``"on"``, an ``IntegerField`` takes ``"2"``,
``2.0`` and ``"2.0"``, a ``DecimalField`` takes ``" 1e2 "`` and ``"1_000"``. The schema says
``string``, ``boolean``, ``integer``: a client whose code sends the wrong type was served as
if it had not, and learnt nothing (schemathesis' ``negative_data_rejection`` check found
``"description": 0`` stored as ``"0"``). Here each field first checks the JSON type, and
answers a 400 saying what to send; only then does DRF's own reading and validation run.

The contract per type:

- text (``CharField`` and its kin: e-mail, slug, regex, URL, UUID, IP address): a JSON string.
- ``BooleanField``: ``true`` or ``false``.
- ``IntegerField``: a JSON integer; not ``"2"``, ``2.0`` or ``true``. Row keys sent as
  relations are integers too (``BoundedModelSerializer`` gives them a bounded key field).
- ``ChoiceField``: a value of the type of the choices' own keys (a string for ours).
- ``DecimalField`` (prices): a string in plain decimal notation (ASCII digits, an optional
  ``-`` and ``.``: no exponent, spaces or ``_``), **or a JSON number**. The one widening, and
  the schema says so (``anyOf`` string or number, see ``StrictDecimalFieldSchema``): DRF has
  always read a number here, clients commonly send prices as numbers, and a JSON number is
  exact enough for a value of two decimal places (it is read from its shortest repr, so
  ``12.5`` is ``Decimal("12.5")``); refusing it would break working clients for no safety.

The APIs parse JSON only (the services' ``DEFAULT_PARSER_CLASSES``): a form body has no types,
so it is refused with 415 rather than read under other rules.

``STRICT_FIELD_MAPPING`` is what ``BoundedModelSerializer`` builds model fields with; declared
fields use these classes by name. The services' suites check that every writable field of
every API serializer is one of them (tests/strict_rules.py).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from django.db import models
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

__all__ = [
    "SEND_AN_INTEGER",
    "SEND_A_BOOLEAN",
    "SEND_A_CHOICE",
    "SEND_A_DECIMAL",
    "SEND_A_STRING",
    "STRICT_FIELD_MAPPING",
    "StrictBooleanField",
    "StrictCharField",
    "StrictChoiceField",
    "StrictDecimalField",
    "StrictEmailField",
    "StrictIPAddressField",
    "StrictIntegerField",
    "StrictJSONType",
    "StrictRegexField",
    "StrictSlugField",
    "StrictURLField",
    "StrictUUIDField",
]

SEND_A_STRING = "Send a string."
SEND_A_BOOLEAN = "Send true or false."
SEND_AN_INTEGER = 'Send a whole number as a JSON integer, e.g. 2 (not "2" or 2.0).'
SEND_A_DECIMAL = 'Send a decimal number: a string such as "12.50", or a JSON number.'
SEND_A_CHOICE = "Send one of the listed values as a string."

# The notation of drf-spectacular's decimal pattern, without its digit counts (DRF's own
# max_digits check says which count is exceeded). ASCII only: Decimal() also reads other
# scripts' digits, which the schema's \d (ECMA-262) does not.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]*(?:\.[0-9]*)?")


def _is_json_type(data: Any, json_types: tuple[type, ...]) -> bool:
    # bool is an int in Python, not a number in JSON.
    if isinstance(data, bool):
        return bool in json_types
    return isinstance(data, json_types)


class StrictJSONType:
    """Mixin for a DRF field: a value of another JSON type is refused before DRF reads it.

    ``None`` never reaches ``to_internal_value`` (DRF answers it from ``allow_null``).
    """

    json_types: ClassVar[tuple[type, ...]]
    wrong_type_message: ClassVar[str]

    def to_internal_value(self, data: Any) -> Any:
        if not _is_json_type(data, self.json_types):
            raise serializers.ValidationError(self.wrong_type_message, code="wrong_type")
        return super().to_internal_value(data)  # type: ignore[misc]


class _StrictText(StrictJSONType):
    json_types = (str,)
    wrong_type_message = SEND_A_STRING


class StrictCharField(_StrictText, serializers.CharField):
    pass


class StrictEmailField(_StrictText, serializers.EmailField):
    pass


class StrictRegexField(_StrictText, serializers.RegexField):
    pass


class StrictSlugField(_StrictText, serializers.SlugField):
    pass


class StrictURLField(_StrictText, serializers.URLField):
    pass


class StrictUUIDField(_StrictText, serializers.UUIDField):
    pass


class StrictIPAddressField(_StrictText, serializers.IPAddressField):
    pass


class StrictBooleanField(StrictJSONType, serializers.BooleanField):
    json_types = (bool,)
    wrong_type_message = SEND_A_BOOLEAN


class StrictIntegerField(StrictJSONType, serializers.IntegerField):
    json_types = (int,)
    wrong_type_message = SEND_AN_INTEGER


class StrictChoiceField(serializers.ChoiceField):
    """A value of the choices' own key type: ``"1"`` for a choice ``"1"``, not ``1``."""

    def to_internal_value(self, data: Any) -> Any:
        if not _is_json_type(data, tuple({type(key) for key in self.choices}) or (str,)):
            raise serializers.ValidationError(SEND_A_CHOICE, code="wrong_type")
        return super().to_internal_value(data)


class StrictDecimalField(StrictJSONType, serializers.DecimalField):
    json_types = (str, int, float)
    wrong_type_message = SEND_A_DECIMAL

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and not _PLAIN_DECIMAL.fullmatch(data):
            raise serializers.ValidationError(SEND_A_DECIMAL, code="wrong_type")
        return super().to_internal_value(data)


# drf-spectacular registers an extension as its class is made, through an untyped hook.
class StrictDecimalFieldSchema(OpenApiSerializerFieldExtension):  # type: ignore[no-untyped-call]
    """A request's decimal is a decimal string or a JSON number; a response's stays a string."""

    target_class = StrictDecimalField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Any) -> Any:
        field = self.target
        text = auto_schema._map_serializer_field(  # type: ignore[no-untyped-call]
            field, direction, bypass_extensions=True
        )
        text = {key: text[key] for key in ("type", "format", "pattern") if key in text}
        if direction != "request":
            return text
        number: dict[str, Any] = build_basic_type(OpenApiTypes.NUMBER) or {}
        if field.max_whole_digits is not None:
            bound = 10**field.max_whole_digits
            number.update(
                minimum=-bound, maximum=bound, exclusiveMinimum=True, exclusiveMaximum=True
            )
        for key, value in (("minimum", field.min_value), ("maximum", field.max_value)):
            if value is not None:
                number[key] = int(value) if value == int(value) else float(value)
                number.pop(f"exclusive{key.capitalize()}", None)
        return {"anyOf": [text, number]}


# What BoundedModelSerializer builds each model field with: DRF's mapping, strict.
_STRICT_CLASSES: dict[type[serializers.Field[Any, Any, Any, Any]], type[Any]] = {
    serializers.CharField: StrictCharField,
    serializers.EmailField: StrictEmailField,
    serializers.SlugField: StrictSlugField,
    serializers.URLField: StrictURLField,
    serializers.UUIDField: StrictUUIDField,
    serializers.IPAddressField: StrictIPAddressField,
    serializers.BooleanField: StrictBooleanField,
    serializers.IntegerField: StrictIntegerField,
    serializers.DecimalField: StrictDecimalField,
}
STRICT_FIELD_MAPPING: dict[type[models.Field[Any, Any]], type[Any]] = {
    model_field: _STRICT_CLASSES.get(field_class, field_class)
    for model_field, field_class in serializers.ModelSerializer.serializer_field_mapping.items()
}
