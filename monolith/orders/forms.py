from __future__ import annotations

import uuid
from typing import Any

from django import forms

from monolith.accounts.models import Address, User
from monolith.accounts.selectors import address_get_default, address_list_for_user
from monolith.orders.services import ShippingAddress
from monolith.payments.gateway import card_number_normalise, card_number_passes_luhn
from monolith.payments.services import IDEMPOTENCY_KEY_MAX_LENGTH

__all__ = ["CheckoutForm", "PayForm"]

_NEW_ADDRESS_FIELDS = ("full_name", "line1", "city", "postal_code", "country")


class CheckoutForm(forms.Form):
    """Ship to a saved address, or to one typed in (used for this order only)."""

    address = forms.ModelChoiceField(
        queryset=Address.objects.none(),
        required=False,
        widget=forms.RadioSelect,
        empty_label="A new address (below)",
        label="Ship to",
    )
    full_name = forms.CharField(max_length=150, required=False)
    line1 = forms.CharField(max_length=200, required=False, label="Address line 1")
    line2 = forms.CharField(max_length=200, required=False, label="Address line 2")
    city = forms.CharField(max_length=100, required=False)
    postal_code = forms.CharField(max_length=20, required=False)
    country = forms.RegexField(
        regex=r"^[A-Za-z]{2}$",
        required=False,
        help_text="Two letters, e.g. DE",
        error_messages={"invalid": "Use the two-letter country code, e.g. DE."},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        address_field = self.fields["address"]
        assert isinstance(address_field, forms.ModelChoiceField)
        address_field.queryset = address_list_for_user(user=user)
        default = address_get_default(user=user)
        if default is not None:
            self.initial.setdefault("address", default.pk)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("address") is None:
            for name in _NEW_ADDRESS_FIELDS:
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, "Needed for a new address.")
        return cleaned

    def shipping_address(self) -> ShippingAddress:
        data = self.cleaned_data
        address: Address | None = data.get("address")
        if address is not None:
            return ShippingAddress.from_address(address)
        return ShippingAddress(
            name=data["full_name"],
            line1=data["line1"],
            line2=data["line2"],
            city=data["city"],
            postal_code=data["postal_code"],
            country=data["country"].upper(),
        )


class PayForm(forms.Form):
    card_number = forms.CharField(max_length=32, help_text="Test card: 4242 4242 4242 4242")
    cardholder_name = forms.CharField(max_length=100, required=False)
    # A fresh key per rendered form: a double-clicked Pay button charges the card once.
    idempotency_key = forms.CharField(
        max_length=IDEMPOTENCY_KEY_MAX_LENGTH, widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["idempotency_key"] = str(uuid.uuid4())

    def clean_card_number(self) -> str:
        digits = card_number_normalise(self.cleaned_data["card_number"])
        if not card_number_passes_luhn(digits):
            raise forms.ValidationError("This is not a valid card number.")
        return digits
