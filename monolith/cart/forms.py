from __future__ import annotations

from django import forms

from monolith.cart.models import MAX_LINE_QUANTITY

__all__ = ["CartAddForm", "CartLineQuantityForm"]


class CartAddForm(forms.Form):
    product_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    quantity = forms.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY, initial=1)


class CartLineQuantityForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
