"""A double-clicked Pay button, for real: concurrent requests with one Idempotency-Key, each
on its own database connection, charge the card once."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from monolith.payments.models import Payment, SimulatedCharge
from tests.monolith.orders.factories import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)

SUBMITS = 8


def test_a_concurrent_double_submit_of_one_key_charges_the_card_once(customer, order) -> None:
    token = Token.objects.create(user=customer).key

    def pay(_: int):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client.post(
            f"/api/v1/orders/{order.pk}/pay/",
            {"card_number": "4242424242424242"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="double-click",
        )

    responses = run_concurrently(SUBMITS, pay)

    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, responses
    created = [r.json() for r in responses if r.status_code == 201]
    assert created
    assert all(body == created[0] for body in created)
    conflicts = [r.json()["code"] for r in responses if r.status_code == 409]
    assert set(conflicts) <= {"idempotency_request_in_progress"}
    assert SimulatedCharge.objects.count() == 1
    assert Payment.objects.count() == 1
