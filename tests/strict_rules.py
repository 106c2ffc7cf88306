"""A rule every service's API keeps: each field a client writes reads JSON types strictly
(strangler.servicekit.strict_fields), checked by each service's suite on its own serializers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rest_framework import serializers

from strangler.servicekit.strict_fields import StrictChoiceField, StrictJSONType

__all__ = ["loose_request_fields", "request_serializers"]


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def request_serializers(schema: dict[str, Any], package: str) -> dict[str, type]:
    """``package``'s serializers behind the schema's request bodies, by component name.

    drf-spectacular names a request component after its serializer (``CartLineAddSerializer``
    gives ``CartLineAddRequest`` and ``PatchedCartLineAddRequest``); serializers only ever
    rendered (a cart, an order's shipping address) are left out.
    """
    # The schema was generated from the URLconf: every serializer class is imported.
    by_name = {
        cls.__name__.removesuffix("Serializer"): cls
        for cls in _subclasses(serializers.Serializer)
        if cls.__module__.startswith(f"{package}.")
    }
    return {
        name: by_name[name.removeprefix("Patched").removesuffix("Request")]
        for name in schema["components"]["schemas"]
        if name.endswith("Request")
    }


def _loose(serializer: Any, where: str) -> Iterator[str]:
    for name, field in serializer.fields.items():
        here = f"{where}.{name}"
        if field.read_only or isinstance(field, serializers.HiddenField):
            continue
        if isinstance(field, serializers.ListSerializer | serializers.ListField):
            field = field.child
        if isinstance(field, serializers.BaseSerializer):
            yield from _loose(field, here)
            continue
        if isinstance(field, serializers.PrimaryKeyRelatedField):
            field = field.pk_field
        if not isinstance(field, StrictJSONType | StrictChoiceField):
            yield f"{here}: {type(field).__name__}"


def loose_request_fields(schema: dict[str, Any], package: str) -> list[str]:
    """Writable fields of request serializers that read JSON loosely, as ``Class.field: type``."""
    return sorted(
        {
            loose
            for cls in request_serializers(schema, package).values()
            for loose in _loose(cls(), cls.__name__)
        }
    )
