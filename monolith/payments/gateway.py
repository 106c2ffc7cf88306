"""The simulated card gateway. Test card numbers pick the outcome, as in Stripe's test mode:

    4242 4242 4242 4242   succeeds (as does any other number passing the Luhn check)
    4000 0000 0000 0002   is declined
    4000 0000 0000 0119   times out, after ``settings.PAYMENT_GATEWAY_TIMEOUT_SECONDS``
    a number failing the Luhn check is invalid

Like a real gateway it deduplicates charges by idempotency key: a retried charge with the
same key returns the first charge and takes no money twice. Its ledger is ``SimulatedCharge``.

GatewayError
├── CardInvalid      the number is not a card number
├── CardDeclined     the issuer refused
├── GatewayTimeout   no answer in time: the charge may or may not exist; retry with the key
└── RefundRejected   no such charge, or it was refunded already
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Protocol

from django.conf import settings
from django.db import transaction

from monolith.payments.models import SimulatedCharge

__all__ = [
    "DECLINED_CARD",
    "SUCCEEDING_CARD",
    "TIMEOUT_CARD",
    "CardDeclined",
    "CardGateway",
    "CardInvalid",
    "Charge",
    "GatewayError",
    "GatewayTimeout",
    "RefundRejected",
    "SimulatedGateway",
    "card_number_normalise",
    "card_number_passes_luhn",
    "gateway_get",
]

SUCCEEDING_CARD: Final = "4242424242424242"
DECLINED_CARD: Final = "4000000000000002"
TIMEOUT_CARD: Final = "4000000000000119"


class GatewayError(Exception):
    code: str = "gateway_error"


class CardInvalid(GatewayError):
    code = "card_invalid"


class CardDeclined(GatewayError):
    code = "card_declined"


class GatewayTimeout(GatewayError):
    code = "gateway_timeout"


class RefundRejected(GatewayError):
    code = "refund_rejected"


@dataclass(frozen=True)
class Charge:
    reference: str
    amount: Decimal
    currency: str
    card_last4: str


class CardGateway(Protocol):
    def charge(
        self, *, amount: Decimal, currency: str, card_number: str, idempotency_key: str
    ) -> Charge: ...

    def refund(self, *, reference: str) -> str: ...


def card_number_normalise(card_number: str) -> str:
    """Drop the spaces and dashes people type between digit groups."""
    return card_number.replace(" ", "").replace("-", "")


def card_number_passes_luhn(card_number: str) -> bool:
    """Whether ``card_number`` (digits only) is 12 to 19 digits with a valid check digit."""
    if not (card_number.isascii() and card_number.isdigit() and 12 <= len(card_number) <= 19):
        return False
    total = 0
    for position, digit in enumerate(int(c) for c in reversed(card_number)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


class SimulatedGateway:
    def __init__(self, *, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds

    def charge(
        self, *, amount: Decimal, currency: str, card_number: str, idempotency_key: str
    ) -> Charge:
        existing = SimulatedCharge.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _charge_of(existing)
        if not card_number_passes_luhn(card_number):
            raise CardInvalid("The card number is invalid.")
        if card_number == DECLINED_CARD:
            raise CardDeclined("The card was declined.")
        if card_number == TIMEOUT_CARD:
            time.sleep(self.timeout_seconds)  # the simulated behaviour, not synchronisation
            raise GatewayTimeout(f"No answer from the card issuer in {self.timeout_seconds} s.")
        with transaction.atomic():
            record, _ = SimulatedCharge.objects.get_or_create(
                idempotency_key=idempotency_key,
                defaults={
                    "reference": f"ch_{secrets.token_hex(12)}",
                    "amount": amount,
                    "currency": currency,
                    "card_last4": card_number[-4:],
                },
            )
        return _charge_of(record)

    def refund(self, *, reference: str) -> str:
        with transaction.atomic():
            updated = SimulatedCharge.objects.filter(reference=reference, refunded=False).update(
                refunded=True
            )
        if not updated:
            raise RefundRejected(f"No refundable charge {reference!r}.")
        return f"re_{secrets.token_hex(12)}"


def _charge_of(record: SimulatedCharge) -> Charge:
    return Charge(
        reference=record.reference,
        amount=record.amount,
        currency=record.currency,
        card_last4=record.card_last4,
    )


def gateway_get() -> CardGateway:
    """The gateway to charge through, configured from the settings of this moment."""
    return SimulatedGateway(timeout_seconds=float(settings.PAYMENT_GATEWAY_TIMEOUT_SECONDS))
