"""What the two nodes keep in step: widgets (a unique sku besides the key) and their parts."""

from __future__ import annotations

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
