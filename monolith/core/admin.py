"""Admin pieces shared by the storefront's apps."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

__all__ = ["ReadOnlyModelAdmin"]


class ReadOnlyModelAdmin(admin.ModelAdmin[Any]):
    """For records only services write (money, order history): the admin shows them and
    never adds, changes or deletes one, so every write keeps its invariants and audit trail."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
