"""``/api/v1/orders/<id>/pay/`` and ``/api/v1/payments/``: idempotent payment, refunds, and
who may call what."""

from __future__ import annotations

import pytest

from monolith.orders.models import Order
from monolith.orders.services import order_ship
from monolith.payments.models import Payment, SimulatedCharge
from tests.monolith.factories import make_product
from tests.monolith.orders.factories import make_order

pytestmark = pytest.mark.django_db

SUCCEEDS = {"card_number": "4242424242424242", "cardholder_name": "Alice Example"}
DECLINED = {"card_number": "4000000000000002"}
TIMES_OUT = {"card_number": "4000000000000119"}
PAYMENTS = "/api/v1/payments/"


def _pay(client, order: Order, body: dict, key: str | None = "key-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(f"/api/v1/orders/{order.pk}/pay/", body, format="json", **headers)


def _status(order: Order) -> str:
    order.refresh_from_db()
    return order.status


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/orders/1/pay/"),
        ("get", PAYMENTS),
        ("get", f"{PAYMENTS}1/"),
        ("post", f"{PAYMENTS}1/refund/"),
    ],
)
def test_anonymous_callers_are_told_to_authenticate(anon_api, method, path) -> None:
    response = getattr(anon_api, method)(path, {}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# -- paying --------------------------------------------------------------------------------


def test_paying_a_pending_order_returns_the_payment_with_201(customer_api, order) -> None:
    response = _pay(customer_api, order, SUCCEEDS)

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "order_id": order.pk,
        "amount": "25.00",
        "currency": "EUR",
        "status": "succeeded",
        "card_last4": "4242",
        "created_at": body["created_at"],
    }


def test_a_successful_payment_marks_the_order_paid(customer_api, order) -> None:
    _pay(customer_api, order, SUCCEEDS)

    assert _status(order) == "paid"


def test_a_request_without_an_idempotency_key_is_refused(customer_api, order) -> None:
    response = _pay(customer_api, order, SUCCEEDS, key=None)

    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required"


def test_an_idempotency_key_over_255_characters_is_refused(customer_api, order) -> None:
    response = _pay(customer_api, order, SUCCEEDS, key="k" * 256)

    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_invalid"


@pytest.mark.parametrize("card_number", ["4242424242424241", "not a card", ""])
def test_a_card_number_that_is_not_one_is_a_field_error(customer_api, order, card_number) -> None:
    response = _pay(customer_api, order, {"card_number": card_number})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["card_number"]
    assert not Payment.objects.exists()


def test_repeating_a_request_replays_the_same_response_and_charges_once(
    customer_api, order
) -> None:
    first = _pay(customer_api, order, SUCCEEDS)

    second = _pay(customer_api, order, SUCCEEDS)

    assert (second.status_code, second.json()) == (first.status_code, first.json())
    assert SimulatedCharge.objects.count() == 1


def test_a_replayed_response_says_so_in_a_header(customer_api, order) -> None:
    first = _pay(customer_api, order, SUCCEEDS)

    second = _pay(customer_api, order, SUCCEEDS)

    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"


def test_spaces_in_the_card_number_do_not_make_a_different_request(customer_api, order) -> None:
    first = _pay(customer_api, order, SUCCEEDS)

    second = _pay(customer_api, order, {**SUCCEEDS, "card_number": "4242 4242 4242 4242"})

    assert second.json() == first.json()


def test_reusing_a_key_with_a_different_body_conflicts(customer_api, order) -> None:
    _pay(customer_api, order, SUCCEEDS)

    response = _pay(customer_api, order, {**SUCCEEDS, "cardholder_name": "Someone Else"})

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"


def test_reusing_a_key_for_another_order_conflicts(customer, customer_api, order) -> None:
    _pay(customer_api, order, SUCCEEDS)
    another = make_order(user=customer, lines={make_product(): 1})

    response = _pay(customer_api, another, SUCCEEDS)

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"


def test_a_key_whose_first_request_is_still_processing_conflicts(
    customer, customer_api, order
) -> None:
    _pay(customer_api, order, DECLINED)  # leaves a row with this key and body's fingerprint
    Payment.objects.update(status=Payment.Status.PROCESSING, response_status=None)

    response = _pay(customer_api, order, DECLINED)

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_request_in_progress"


def test_another_key_while_a_payment_is_processing_conflicts(customer_api, order) -> None:
    _pay(customer_api, order, DECLINED, key="first")
    Payment.objects.update(status=Payment.Status.PROCESSING, response_status=None)

    response = _pay(customer_api, order, SUCCEEDS, key="second")

    assert response.status_code == 409
    assert response.json()["code"] == "payment_in_progress"


def test_a_declined_card_is_402_payment_declined(customer_api, order) -> None:
    response = _pay(customer_api, order, DECLINED)

    assert response.status_code == 402
    assert response.json()["code"] == "payment_declined"
    assert _status(order) == "pending"


def test_a_decline_is_replayed_for_its_key(customer_api, order) -> None:
    first = _pay(customer_api, order, DECLINED)

    second = _pay(customer_api, order, DECLINED)

    assert (second.status_code, second.json()) == (402, first.json())
    assert Payment.objects.get().status == "declined"


def test_after_a_decline_a_new_key_can_pay(customer_api, order) -> None:
    _pay(customer_api, order, DECLINED, key="first")

    response = _pay(customer_api, order, SUCCEEDS, key="second")

    assert response.status_code == 201
    assert _status(order) == "paid"


@pytest.mark.usefixtures("instant_timeouts")
def test_a_gateway_timeout_is_504_and_leaves_the_payment_failed(customer_api, order) -> None:
    response = _pay(customer_api, order, TIMES_OUT)

    assert response.status_code == 504
    assert response.json()["code"] == "payment_gateway_timeout"
    payment = Payment.objects.get()
    assert (payment.status, payment.response_status) == ("failed", None)
    assert _status(order) == "pending"


@pytest.mark.usefixtures("instant_timeouts")
def test_a_timed_out_key_tries_the_gateway_again_instead_of_replaying(customer_api, order) -> None:
    _pay(customer_api, order, TIMES_OUT)

    response = _pay(customer_api, order, TIMES_OUT)

    assert response.status_code == 504
    assert "Idempotent-Replayed" not in response.headers
    assert Payment.objects.count() == 1


@pytest.mark.usefixtures("instant_timeouts")
def test_after_a_timeout_another_card_can_pay_with_a_new_key(customer_api, order) -> None:
    _pay(customer_api, order, TIMES_OUT, key="first")

    response = _pay(customer_api, order, SUCCEEDS, key="second")

    assert response.status_code == 201


def test_paying_a_paid_order_with_a_new_key_is_an_order_state_conflict(customer_api, order) -> None:
    _pay(customer_api, order, SUCCEEDS, key="first")

    response = _pay(customer_api, order, SUCCEEDS, key="second")

    assert response.status_code == 409
    assert response.json()["code"] == "order_state_conflict"
    assert SimulatedCharge.objects.count() == 1


def test_paying_a_cancelled_order_is_an_order_state_conflict(customer_api, order) -> None:
    customer_api.post(f"/api/v1/orders/{order.pk}/cancel/")

    response = _pay(customer_api, order, SUCCEEDS)

    assert response.status_code == 409
    assert response.json()["code"] == "order_state_conflict"


@pytest.mark.parametrize("client_name", ["other_api", "staff_api"])
def test_only_the_buyer_can_pay_an_order(request, order, client_name) -> None:
    response = _pay(request.getfixturevalue(client_name), order, SUCCEEDS)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not Payment.objects.exists()


def test_two_users_may_use_the_same_key(customer_api, other_customer, other_api, order) -> None:
    theirs = make_order(user=other_customer, lines={make_product(): 1})
    _pay(customer_api, order, SUCCEEDS, key="same")

    response = _pay(other_api, theirs, SUCCEEDS, key="same")

    assert response.status_code == 201


# -- reading -------------------------------------------------------------------------------


def test_the_payment_shown_later_matches_the_payment_response(customer_api, order) -> None:
    paid = _pay(customer_api, order, SUCCEEDS).json()

    response = customer_api.get(f"{PAYMENTS}{paid['id']}/")

    assert response.status_code == 200
    assert response.json() == paid


def test_customers_list_their_own_payments(customer_api, other_customer, other_api, order) -> None:
    _pay(customer_api, order, SUCCEEDS)
    _pay(other_api, make_order(user=other_customer, lines={make_product(): 1}), SUCCEEDS)

    response = customer_api.get(PAYMENTS)

    assert response.status_code == 200
    assert [p["order_id"] for p in response.json()["results"]] == [order.pk]


def test_staff_list_all_payments(customer_api, other_customer, other_api, staff_api, order):
    _pay(customer_api, order, SUCCEEDS)
    _pay(other_api, make_order(user=other_customer, lines={make_product(): 1}), SUCCEEDS)

    assert staff_api.get(PAYMENTS).json()["count"] == 2


def test_another_customers_payment_is_not_found(customer_api, other_api, order) -> None:
    paid = _pay(customer_api, order, SUCCEEDS).json()

    response = other_api.get(f"{PAYMENTS}{paid['id']}/")

    assert response.status_code == 404


def test_staff_see_any_payment(customer_api, staff_api, order) -> None:
    paid = _pay(customer_api, order, SUCCEEDS).json()

    assert staff_api.get(f"{PAYMENTS}{paid['id']}/").status_code == 200


# -- refunding -----------------------------------------------------------------------------


def _refund(client, payment_id: int, body: dict | None = None):
    return client.post(f"{PAYMENTS}{payment_id}/refund/", body or {}, format="json")


def test_staff_refund_a_payment_with_201(customer_api, staff_api, order) -> None:
    paid = _pay(customer_api, order, SUCCEEDS).json()

    response = _refund(staff_api, paid["id"], {"reason": "customer asked"})

    assert response.status_code == 201
    body = response.json()
    assert (body["payment_id"], body["amount"], body["reason"]) == (
        paid["id"],
        "25.00",
        "customer asked",
    )
    assert SimulatedCharge.objects.get().refunded is True


def test_refunding_the_payment_of_an_unshipped_order_cancels_it(
    customer_api, staff_api, order
) -> None:
    paid = _pay(customer_api, order, SUCCEEDS).json()

    _refund(staff_api, paid["id"])

    assert _status(order) == "cancelled"


def test_refunding_the_payment_of_a_shipped_order_keeps_it_shipped(
    customer_api, staff, staff_api, order
) -> None:
    paid = _pay(customer_api, order, SUCCEEDS).json()
    order_ship(order=order, actor=staff)

    response = _refund(staff_api, paid["id"])

    assert response.status_code == 201
    assert _status(order) == "shipped"


def test_refunding_twice_conflicts(customer_api, staff_api, order) -> None:
    paid = _pay(customer_api, order, SUCCEEDS).json()
    _refund(staff_api, paid["id"])

    response = _refund(staff_api, paid["id"])

    assert response.status_code == 409
    assert response.json()["code"] == "already_refunded"


def test_a_declined_payment_cannot_be_refunded(customer_api, staff_api, order) -> None:
    declined = _pay(customer_api, order, DECLINED).json()

    response = _refund(staff_api, declined["details"]["payment_id"])

    assert response.status_code == 409
    assert response.json()["code"] == "payment_not_refundable"


def test_customers_may_not_refund_even_their_own_payment(customer_api, order) -> None:
    paid = _pay(customer_api, order, SUCCEEDS).json()

    response = _refund(customer_api, paid["id"])

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_refund_reason_over_200_characters_is_a_field_error(
    customer_api, staff_api, order
) -> None:
    paid = _pay(customer_api, order, SUCCEEDS).json()

    response = _refund(staff_api, paid["id"], {"reason": "x" * 201})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reason"]


def test_refunding_a_missing_payment_is_not_found(staff_api) -> None:
    assert _refund(staff_api, 999_999).status_code == 404
