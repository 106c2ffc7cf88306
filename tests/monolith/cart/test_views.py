"""The cart pages through Django's test client."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from monolith.cart.models import CartLine
from monolith.cart.services import cart_line_add
from tests.monolith.factories import make_product

pytestmark = pytest.mark.django_db

CART = reverse("cart:detail")
ADD = reverse("cart:add")


@pytest.fixture
def browser(customer) -> Client:
    client = Client()
    client.force_login(customer)
    return client


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_cart_page_sends_anonymous_visitors_to_log_in() -> None:
    response = Client().get(CART)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_the_cart_page_lists_the_lines_and_the_total(customer, browser) -> None:
    cart_line_add(
        user=customer, product_id=make_product(name="Teapot", price="4.50").pk, quantity=2
    )

    response = browser.get(CART)

    assert response.status_code == 200
    assert "Teapot" in response.text
    assert "9.00 EUR" in response.text
    assert reverse("orders:checkout") in response.text


def test_adding_from_the_product_page_lands_on_the_cart_with_a_message(customer, browser) -> None:
    product = make_product(name="Teapot")

    response = browser.post(ADD, {"product_id": product.pk, "quantity": 2})

    assert response.status_code == 302
    assert response.url == CART
    assert _messages(response) == ["Added 2 x Teapot."]
    assert CartLine.objects.get(cart__user=customer).quantity == 2


def test_adding_an_unknown_product_explains_why_nothing_was_added(customer, browser) -> None:
    response = browser.post(ADD, {"product_id": 999_999, "quantity": 1})

    assert response.url == CART
    assert "does not exist" in _messages(response)[0]
    assert not CartLine.objects.filter(cart__user=customer).exists()


def test_adding_needs_a_post(browser) -> None:
    assert browser.get(ADD).status_code == 405


def test_updating_a_line_sets_its_quantity(customer, browser) -> None:
    line = cart_line_add(user=customer, product_id=make_product().pk, quantity=1)

    browser.post(reverse("cart:update", args=[line.pk]), {"quantity": 4})

    line.refresh_from_db()
    assert line.quantity == 4


def test_removing_a_line_takes_it_out_of_the_cart(customer, browser) -> None:
    line = cart_line_add(user=customer, product_id=make_product().pk, quantity=1)

    response = browser.post(reverse("cart:remove", args=[line.pk]))

    assert response.url == CART
    assert not CartLine.objects.filter(pk=line.pk).exists()
