from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from monolith.payments.models import Payment, Refund, SimulatedCharge


class _ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Money records are written by the payment services only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(_ReadOnlyAdmin):
    list_display = ["id", "order", "user", "amount", "currency", "status", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["order__number", "user__username", "idempotency_key", "gateway_reference"]
    list_select_related = ["order", "user"]


@admin.register(Refund)
class RefundAdmin(_ReadOnlyAdmin):
    list_display = ["id", "payment", "amount", "reason", "created_at"]
    search_fields = ["payment__order__number", "gateway_reference"]


@admin.register(SimulatedCharge)
class SimulatedChargeAdmin(_ReadOnlyAdmin):
    list_display = ["reference", "amount", "currency", "card_last4", "refunded", "created_at"]
    list_filter = ["refunded"]
    search_fields = ["reference", "idempotency_key"]
