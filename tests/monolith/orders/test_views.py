"""The shopping flow through Django's test client: log in, browse, add to the cart, check
out, pay, and find the order in the history; and the order page's Cancel button."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from monolith.cart.models import CartLine
from monolith.cart.services import cart_line_add
from monolith.inventory.models import StockLevel
from monolith.orders.models import Order
from monolith.payments.models import SimulatedCharge
from tests.monolith.factories import PASSWORD, make_product
from tests.monolith.orders.factories import make_order

pytestmark = pytest.mark.django_db

CHECKOUT = reverse("orders:checkout")
HISTORY = reverse("orders:history")
CARD = "4242 4242 4242 4242"


@pytest.fixture
def browser(customer) -> Client:
    client = Client()
    client.force_login(customer)
    return client


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _pay_form(page: str) -> dict[str, str]:
    """The Pay form's fields as the page rendered them, with a test card filled in."""
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key, "the order page has no Pay form"
    return {"idempotency_key": key.group(1), "card_number": CARD, "cardholder_name": "Alice"}


def test_a_customer_shops_from_login_to_a_paid_order_in_the_history(customer, address) -> None:
    product = make_product(name="Blue Teapot", slug="blue-teapot", price="12.50", stock=5)
    client = Client()

    login = client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert login.status_code == 302
    assert "Blue Teapot" in client.get(reverse("catalog:product-list")).text
    product_page = client.get(reverse("catalog:product-detail", args=[product.slug]))
    assert reverse("cart:add") in product_page.text

    added = client.post(reverse("cart:add"), {"product_id": product.pk, "quantity": 2})
    assert added.url == reverse("cart:detail")
    assert "25.00 EUR" in client.get(reverse("cart:detail")).text

    assert "Blue Teapot" in client.get(CHECKOUT).text
    placed = client.post(CHECKOUT, {"address": address.pk})
    order = Order.objects.get(user=customer)
    assert placed.url == reverse("orders:detail", args=[order.pk])

    order_page = client.get(placed.url).text
    paid = client.post(reverse("orders:pay", args=[order.pk]), _pay_form(order_page))
    assert _messages(paid) == ["Payment received, thank you."]

    history = client.get(HISTORY).text
    assert order.number in history
    order.refresh_from_db()
    assert order.status == "paid"
    assert order.shipping_city == address.city


def test_cancelling_on_the_order_page_gives_the_stock_back(customer, browser) -> None:
    product = make_product(stock=3)
    order = make_order(user=customer, lines={product: 3})

    response = browser.post(reverse("orders:cancel", args=[order.pk]))

    assert response.url == reverse("orders:detail", args=[order.pk])
    assert _messages(response) == [f"Order {order.number} cancelled."]
    assert StockLevel.objects.get(product=product).available == 3


def test_a_double_submitted_pay_form_charges_the_card_once(customer, browser) -> None:
    order = make_order(user=customer, lines={make_product(): 1})
    form = _pay_form(browser.get(reverse("orders:detail", args=[order.pk])).text)

    for _ in range(2):
        browser.post(reverse("orders:pay", args=[order.pk]), form)

    assert SimulatedCharge.objects.count() == 1


def test_a_declined_card_is_explained_on_the_order_page(customer, browser) -> None:
    order = make_order(user=customer, lines={make_product(): 1})
    form = _pay_form(browser.get(reverse("orders:detail", args=[order.pk])).text)

    response = browser.post(
        reverse("orders:pay", args=[order.pk]), {**form, "card_number": "4000000000000002"}
    )

    assert _messages(response) == ["The card was declined."]
    order.refresh_from_db()
    assert order.status == "pending"


def test_each_rendering_of_the_order_page_offers_a_fresh_payment_key(customer, browser) -> None:
    order = make_order(user=customer, lines={make_product(): 1})
    page = reverse("orders:detail", args=[order.pk])

    keys = {_pay_form(browser.get(page).text)["idempotency_key"] for _ in range(2)}

    assert len(keys) == 2


def test_checkout_can_ship_to_an_address_typed_in(customer, browser) -> None:
    cart_line_add(user=customer, product_id=make_product().pk, quantity=1)

    browser.post(
        CHECKOUT,
        {
            "full_name": "Alice Elsewhere",
            "line1": "2 Harbour Road",
            "city": "Hamburg",
            "postal_code": "20095",
            "country": "de",
        },
    )

    order = Order.objects.get(user=customer)
    assert (order.shipping_name, order.shipping_city, order.shipping_country) == (
        "Alice Elsewhere",
        "Hamburg",
        "DE",
    )


def test_checkout_without_an_address_asks_for_one(customer, browser) -> None:
    cart_line_add(user=customer, product_id=make_product().pk, quantity=1)

    response = browser.post(CHECKOUT, {})

    assert response.status_code == 200
    assert "Needed for a new address." in response.text
    assert not Order.objects.exists()


def test_out_of_stock_at_checkout_comes_back_with_a_message(customer, browser, address) -> None:
    product = make_product(name="Last Teapot", stock=1)
    cart_line_add(user=customer, product_id=product.pk, quantity=2)

    response = browser.post(CHECKOUT, {"address": address.pk})

    assert response.status_code == 200
    assert "Only 1 of product" in _messages(response)[0]
    assert CartLine.objects.filter(cart__user=customer).exists()


def test_checkout_with_an_empty_cart_sends_the_customer_to_the_cart(browser) -> None:
    response = browser.get(CHECKOUT)

    assert response.url == reverse("cart:detail")


def test_another_customers_order_page_is_not_found(other_customer, browser) -> None:
    order = make_order(user=other_customer, lines={make_product(): 1})

    assert browser.get(reverse("orders:detail", args=[order.pk])).status_code == 404


def test_the_history_lists_only_the_customers_own_orders(customer, other_customer, browser) -> None:
    mine = make_order(user=customer, lines={make_product(): 1})
    theirs = make_order(user=other_customer, lines={make_product(): 1})

    page = browser.get(HISTORY).text

    assert mine.number in page
    assert theirs.number not in page


def test_the_order_pages_send_anonymous_visitors_to_log_in() -> None:
    response = Client().get(HISTORY)

    assert response.url.startswith(reverse("accounts:login"))
