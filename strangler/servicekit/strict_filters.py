"""Query filters that read a value only as the OpenAPI schema types it.

A query string has no types: the schema's ``boolean``, ``number`` and ``integer`` are
spellings, the ones a client (or schemathesis) writes. django-filter's fields read more:
Django's ``DecimalField`` takes `` 5``, ``1_000`` and other scripts' digits (``Decimal()``
does), ``ModelChoiceField`` looks a key up with ``int()``, which takes ``+3``, `` 3`` and
``3_0``. Each filter here refuses any other spelling with a 400 naming the parameter and
saying what to send; an empty value is still "no filter", as the storefront's form sends it.

- ``StrictBooleanFilter``: ``true`` or ``false``, lower case as JSON writes them.
- ``StrictNumberFilter``: a decimal number as JSON writes one (an optional ``-``, ASCII digits,
  an optional fraction and exponent); a leading ``.5`` too, as an HTML number input sends it.
- ``KeyChoiceFilter``: a row key, ASCII digits within the key column's range, then the row;
  a well-formed key naming no row is the usual "not one of the available choices".
"""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django import forms
from django_filters.fields import ModelChoiceField

from strangler.servicekit.bounds import KEY_COLUMN, column_range

__all__ = [
    "SEND_A_BOOLEAN",
    "SEND_A_KEY",
    "SEND_A_NUMBER",
    "KeyChoiceFilter",
    "StrictBooleanFilter",
    "StrictNumberFilter",
]

SEND_A_BOOLEAN = "Use true or false."
SEND_A_NUMBER = "Send a number, e.g. 12.50."
SEND_A_KEY = "Send an id: a whole number of 1 or more."

_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# int64's 19 digits; a longer run of digits is out of range without converting it.
_KEY_DIGITS = 19


class _StrictBooleanField(forms.Field):
    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        if value not in ("true", "false"):
            raise forms.ValidationError(SEND_A_BOOLEAN, code="invalid")
        return bool(value == "true")


class StrictBooleanFilter(django_filters.BooleanFilter):  # type: ignore[misc]
    field_class = _StrictBooleanField


class _StrictNumberField(forms.DecimalField):
    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and not _NUMBER.fullmatch(str(value)):
            raise forms.ValidationError(SEND_A_NUMBER, code="invalid")
        return super().to_python(value)


class StrictNumberFilter(django_filters.NumberFilter):  # type: ignore[misc]
    field_class = _StrictNumberField


class _KeyChoiceField(ModelChoiceField):  # type: ignore[misc]
    def to_python(self, value: Any) -> Any:
        if value in self.empty_values or self.to_field_name is not None:
            return super().to_python(value)
        text = str(value)
        if not (text.isascii() and text.isdigit()):
            raise forms.ValidationError(SEND_A_KEY, code="invalid")
        digits = text.lstrip("0")
        if not digits or len(digits) > _KEY_DIGITS or int(digits) > column_range(KEY_COLUMN)[1]:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(digits)


class KeyChoiceFilter(django_filters.ModelChoiceFilter):  # type: ignore[misc]
    """A ``ModelChoiceFilter`` on the row key, read as ``<key:...>`` reads a path's."""

    field_class = _KeyChoiceField
