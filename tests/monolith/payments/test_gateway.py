from __future__ import annotations

from decimal import Decimal

import pytest

from monolith.payments.gateway import (
    DECLINED_CARD,
    SUCCEEDING_CARD,
    TIMEOUT_CARD,
    CardDeclined,
    CardInvalid,
    GatewayTimeout,
    RefundRejected,
    SimulatedGateway,
    card_number_passes_luhn,
)
from monolith.payments.models import SimulatedCharge

AMOUNT = Decimal("25.00")


@pytest.fixture
def gateway() -> SimulatedGateway:
    return SimulatedGateway(timeout_seconds=0)


def _charge(gateway: SimulatedGateway, card: str = SUCCEEDING_CARD, key: str = "key-1"):
    return gateway.charge(amount=AMOUNT, currency="EUR", card_number=card, idempotency_key=key)


@pytest.mark.parametrize(
    "number", [SUCCEEDING_CARD, DECLINED_CARD, TIMEOUT_CARD, "5555555555554444", "378282246310005"]
)
def test_real_test_card_numbers_pass_the_luhn_check(number) -> None:
    assert card_number_passes_luhn(number)


# Full-width digits are digits to str.isdigit, but to no card network.
FULL_WIDTH_SUCCESS_CARD = "\uff14\uff12" * 8


@pytest.mark.parametrize(
    "number",
    ["4242424242424241", "42424242", "4242 4242 4242 4242", "", FULL_WIDTH_SUCCESS_CARD],
)
def test_numbers_with_a_wrong_check_digit_length_or_characters_fail(number) -> None:
    assert not card_number_passes_luhn(number)


@pytest.mark.django_db
def test_the_success_card_is_charged_and_recorded_in_the_ledger(gateway) -> None:
    charge = _charge(gateway)

    record = SimulatedCharge.objects.get()
    assert (record.reference, record.amount, record.card_last4) == (
        charge.reference,
        AMOUNT,
        "4242",
    )


@pytest.mark.django_db
def test_a_second_charge_with_the_same_key_returns_the_first_and_takes_nothing(gateway) -> None:
    first = _charge(gateway)

    again = _charge(gateway)

    assert again == first
    assert SimulatedCharge.objects.count() == 1


@pytest.mark.django_db
def test_the_decline_card_is_declined_and_nothing_is_charged(gateway) -> None:
    with pytest.raises(CardDeclined):
        _charge(gateway, DECLINED_CARD)

    assert not SimulatedCharge.objects.exists()


@pytest.mark.django_db
def test_the_timeout_card_gives_up_and_nothing_is_charged(gateway) -> None:
    with pytest.raises(GatewayTimeout):
        _charge(gateway, TIMEOUT_CARD)

    assert not SimulatedCharge.objects.exists()


@pytest.mark.django_db
def test_a_number_failing_the_luhn_check_is_invalid(gateway) -> None:
    with pytest.raises(CardInvalid):
        _charge(gateway, "4242424242424241")


@pytest.mark.django_db
def test_a_refund_marks_the_charge_refunded(gateway) -> None:
    charge = _charge(gateway)

    reference = gateway.refund(reference=charge.reference)

    assert reference.startswith("re_")
    assert SimulatedCharge.objects.get().refunded is True


@pytest.mark.django_db
def test_a_charge_cannot_be_refunded_twice(gateway) -> None:
    charge = _charge(gateway)
    gateway.refund(reference=charge.reference)

    with pytest.raises(RefundRejected):
        gateway.refund(reference=charge.reference)
