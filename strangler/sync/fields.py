"""Small facts about model fields that the sync needs typed precisely."""

from __future__ import annotations

from typing import Any

from django.db import models

__all__ = ["column_of", "pk_of"]


def column_of(field: models.Field[Any, Any]) -> str:
    """The database column of a concrete field (Django types it optional for virtual ones)."""
    if field.column is None:
        raise ValueError(f"{field!r} has no database column")
    return field.column


def pk_of(model: type[models.Model]) -> models.Field[Any, Any]:
    pk = model._meta.pk
    if pk is None:
        raise ValueError(f"{model.__name__} has no primary key")
    return pk
