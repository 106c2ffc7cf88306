from __future__ import annotations

from django.contrib import admin

from monolith.core.admin import ReadOnlyModelAdmin
from monolith.payments.models import Payment, Refund, SimulatedCharge


@admin.register(Payment)
class PaymentAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "order", "user", "amount", "currency", "status", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["order__number", "user__username", "idempotency_key", "gateway_reference"]
    list_select_related = ["order", "user"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "payment", "amount", "reason", "created_at"]
    search_fields = ["payment__order__number", "gateway_reference"]


@admin.register(SimulatedCharge)
class SimulatedChargeAdmin(ReadOnlyModelAdmin):
    list_display = ["reference", "amount", "currency", "card_last4", "refunded", "created_at"]
    list_filter = ["refunded"]
    search_fields = ["reference", "idempotency_key"]
