"""What the two nodes keep in step: widgets (a unique sku besides the key) and their parts;
vouchers, labels and shipments, whose keys are a UUID, text and a big integer."""

from __future__ import annotations

import uuid

from django.db import models


class Widget(models.Model):
    sku = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    # auto_now on the sender: the receiver must keep the sender's value, not stamp its own.
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.sku


class Part(models.Model):
    widget = models.ForeignKey(Widget, on_delete=models.CASCADE, related_name="parts")
    name = models.CharField(max_length=100)
    quantity = models.IntegerField(default=1)

    def __str__(self) -> str:
        return self.name


class Voucher(models.Model):
    """Keyed by a UUID: reconcile orders it by its bytes on every engine."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=100)
    amount = models.DecimalField(max_digits=10, decimal_places=2)

    def __str__(self) -> str:
        return self.name


class Label(models.Model):
    """Keyed by text: reconcile orders it by a collation both databases share."""

    code = models.CharField(max_length=64, primary_key=True)
    name = models.CharField(max_length=100)
    position = models.IntegerField(default=0)

    def __str__(self) -> str:
        return self.code


class Shipment(models.Model):
    """Keyed by a big integer given by the writer (snowflake-like ids, negative ones too); the
    same columns as a voucher, so that the two compare by their keys alone."""

    id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=100)
    amount = models.DecimalField(max_digits=10, decimal_places=2)

    def __str__(self) -> str:
        return self.name
