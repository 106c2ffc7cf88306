from __future__ import annotations

import pytest

from monolith.cart.models import CartLine
from monolith.cart.services import cart_clear, cart_line_add, cart_line_remove, cart_line_update
from monolith.core.errors import Conflict, NotFound, StorefrontError
from tests.monolith.factories import make_product

pytestmark = pytest.mark.django_db


def test_adding_a_product_already_in_the_cart_adds_to_its_line(customer) -> None:
    product = make_product()
    cart_line_add(user=customer, product_id=product.pk, quantity=2)

    line = cart_line_add(user=customer, product_id=product.pk, quantity=3)

    assert line.quantity == 5
    assert CartLine.objects.filter(cart__user=customer).count() == 1


def test_a_line_cannot_grow_beyond_99_units(customer) -> None:
    product = make_product()
    cart_line_add(user=customer, product_id=product.pk, quantity=60)

    with pytest.raises(StorefrontError) as raised:
        cart_line_add(user=customer, product_id=product.pk, quantity=40)

    assert raised.value.code == "cart_line_quantity_exceeded"
    assert CartLine.objects.get(cart__user=customer).quantity == 60


def test_an_inactive_product_cannot_be_added(customer) -> None:
    product = make_product(is_active=False)

    with pytest.raises(StorefrontError) as raised:
        cart_line_add(user=customer, product_id=product.pk, quantity=1)

    assert raised.value.code == "product_unavailable"


def test_a_product_in_another_currency_cannot_join_the_cart(customer) -> None:
    cart_line_add(user=customer, product_id=make_product(currency="EUR").pk, quantity=1)

    with pytest.raises(Conflict) as raised:
        cart_line_add(user=customer, product_id=make_product(currency="USD").pk, quantity=1)

    assert raised.value.code == "currency_mismatch"


def test_updating_sets_the_quantity_of_the_line(customer) -> None:
    line = cart_line_add(user=customer, product_id=make_product().pk, quantity=1)

    updated = cart_line_update(user=customer, line_id=line.pk, quantity=7)

    assert updated.quantity == 7


def test_another_users_line_cannot_be_updated(customer, other_customer) -> None:
    line = cart_line_add(user=other_customer, product_id=make_product().pk, quantity=1)

    with pytest.raises(NotFound):
        cart_line_update(user=customer, line_id=line.pk, quantity=2)


def test_another_users_line_cannot_be_removed(customer, other_customer) -> None:
    line = cart_line_add(user=other_customer, product_id=make_product().pk, quantity=1)

    with pytest.raises(NotFound):
        cart_line_remove(user=customer, line_id=line.pk)

    assert CartLine.objects.filter(pk=line.pk).exists()


def test_clearing_removes_every_line_of_the_users_cart_only(customer, other_customer) -> None:
    cart_line_add(user=customer, product_id=make_product().pk, quantity=1)
    cart_line_add(user=customer, product_id=make_product().pk, quantity=1)
    cart_line_add(user=other_customer, product_id=make_product().pk, quantity=1)

    assert cart_clear(user=customer) == 2

    assert CartLine.objects.filter(cart__user=other_customer).count() == 1
