from __future__ import annotations

import re
from decimal import Decimal

import pytest

from monolith.cart.models import CartLine
from monolith.cart.services import cart_line_add
from monolith.core.errors import Conflict, OrderStateConflict, OutOfStock
from monolith.inventory.models import StockLevel
from monolith.orders.models import Order
from monolith.orders.services import (
    order_cancel,
    order_deliver,
    order_mark_paid,
    order_place,
    order_ship,
)
from monolith.payments.models import Payment, SimulatedCharge
from monolith.payments.services import payment_create
from tests.monolith.factories import make_product
from tests.monolith.orders.factories import make_order

pytestmark = pytest.mark.django_db

Status = Order.Status
CARD = "4242424242424242"


def _stock(product) -> StockLevel:
    return StockLevel.objects.get(product=product)


def _paid_order(user, product, quantity: int = 1) -> Order:
    order = make_order(user=user, lines={product: quantity})
    payment_create(user=user, order_id=order.pk, idempotency_key="k1", card_number=CARD)
    order.refresh_from_db()
    return order


def test_placing_snapshots_each_products_sku_name_and_price(customer, shipping) -> None:
    product = make_product(name="Teapot", sku="TEA-1", price="12.50")

    order = order_place(user=customer, shipping=shipping, quantities={product.pk: 2})

    line = order.lines.get()
    assert (line.product_id, line.sku, line.product_name) == (product.pk, "TEA-1", "Teapot")
    assert (line.unit_price, line.quantity, line.line_total) == (
        Decimal("12.50"),
        2,
        Decimal("25.00"),
    )


def test_a_later_price_change_leaves_the_order_as_placed(customer, shipping) -> None:
    product = make_product(price="12.50")
    order = order_place(user=customer, shipping=shipping, quantities={product.pk: 1})

    product.price = Decimal("99.00")
    product.save()

    order.refresh_from_db()
    assert order.total == Decimal("12.50")


def test_the_total_is_the_exact_decimal_sum_of_the_lines(customer, shipping) -> None:
    tenth, odd = make_product(price="0.10"), make_product(price="19.99")

    order = order_place(user=customer, shipping=shipping, quantities={tenth.pk: 3, odd.pk: 3})

    assert order.total == Decimal("60.27")


def test_an_order_is_pending_in_the_products_currency(customer, shipping) -> None:
    product = make_product(currency="USD")

    order = order_place(user=customer, shipping=shipping, quantities={product.pk: 1})

    assert (order.status, order.currency) == (Status.PENDING, "USD")


def test_the_shipping_address_is_copied_onto_the_order(customer, shipping, address) -> None:
    order = order_place(user=customer, shipping=shipping, quantities={make_product().pk: 1})

    address.city = "Hamburg"
    address.save()

    order.refresh_from_db()
    assert (order.shipping_name, order.shipping_city) == ("Alice Example", "Berlin")


def test_order_numbers_are_readable_and_distinct(customer, shipping) -> None:
    product = make_product()

    numbers = {
        order_place(user=customer, shipping=shipping, quantities={product.pk: 1}).number
        for _ in range(5)
    }

    assert len(numbers) == 5
    assert all(re.fullmatch(r"ORD-[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}", n) for n in numbers)


def test_placing_reserves_the_ordered_units(customer, shipping) -> None:
    product = make_product(stock=10)

    order_place(user=customer, shipping=shipping, quantities={product.pk: 3})

    assert (_stock(product).reserved, _stock(product).available) == (3, 7)


def test_placing_from_the_cart_orders_its_lines_and_empties_it(customer, shipping) -> None:
    product = make_product()
    cart_line_add(user=customer, product_id=product.pk, quantity=2)

    order = order_place(user=customer, shipping=shipping)

    assert list(order.lines.values_list("product_id", "quantity")) == [(product.pk, 2)]
    assert not CartLine.objects.filter(cart__user=customer).exists()


def test_placing_from_an_empty_cart_is_refused(customer, shipping) -> None:
    with pytest.raises(Conflict) as raised:
        order_place(user=customer, shipping=shipping)

    assert raised.value.code == "cart_empty"


def test_out_of_stock_leaves_no_order_and_the_cart_as_it_was(customer, shipping) -> None:
    plenty, scarce = make_product(stock=10), make_product(stock=1)
    cart_line_add(user=customer, product_id=plenty.pk, quantity=2)
    cart_line_add(user=customer, product_id=scarce.pk, quantity=2)

    with pytest.raises(OutOfStock) as raised:
        order_place(user=customer, shipping=shipping)

    assert raised.value.details == {"product_id": scarce.pk, "requested": 2, "available": 1}
    assert not Order.objects.exists()
    assert CartLine.objects.filter(cart__user=customer).count() == 2
    assert _stock(plenty).reserved == 0


def test_a_product_no_longer_on_sale_cannot_be_ordered(customer, shipping) -> None:
    product = make_product(is_active=False)

    with pytest.raises(Conflict) as raised:
        order_place(user=customer, shipping=shipping, quantities={product.pk: 1})

    assert raised.value.code == "product_unavailable"


def test_products_in_two_currencies_cannot_share_an_order(customer, shipping) -> None:
    euro, dollar = make_product(currency="EUR"), make_product(currency="USD")

    with pytest.raises(Conflict) as raised:
        order_place(user=customer, shipping=shipping, quantities={euro.pk: 1, dollar.pk: 1})

    assert raised.value.code == "mixed_currencies"


def test_placing_records_the_first_status_change(customer) -> None:
    order = make_order(user=customer, lines={make_product(): 1})

    change = order.status_changes.get()
    assert (change.from_status, change.to_status, change.actor) == ("", "pending", customer)


def test_cancelling_a_pending_order_gives_its_stock_back(customer) -> None:
    product = make_product(stock=5)
    order = make_order(user=customer, lines={product: 2})

    cancelled = order_cancel(order=order, actor=customer)

    assert cancelled.status == Status.CANCELLED
    assert cancelled.cancelled_at is not None
    assert _stock(product).reserved == 0


def test_cancelling_a_paid_order_refunds_the_payment(customer) -> None:
    product = make_product(stock=5)
    order = _paid_order(customer, product)

    order_cancel(order=order, actor=customer)

    assert Payment.objects.get(order=order).status == Payment.Status.REFUNDED
    assert SimulatedCharge.objects.get().refunded is True
    assert _stock(product).reserved == 0


def test_an_order_with_a_payment_in_flight_cannot_be_cancelled(customer) -> None:
    order = make_order(user=customer, lines={make_product(): 1})
    Payment.objects.create(
        order=order,
        user=customer,
        idempotency_key="in-flight",
        request_fingerprint="x",
        amount=order.total,
        currency=order.currency,
    )

    with pytest.raises(Conflict) as raised:
        order_cancel(order=order, actor=customer)

    assert raised.value.code == "payment_in_progress"


def test_shipping_a_paid_order_takes_the_units_out_of_the_warehouse(customer, staff) -> None:
    product = make_product(stock=5)
    order = _paid_order(customer, product, quantity=2)

    order_ship(order=order, actor=staff)

    assert (_stock(product).on_hand, _stock(product).reserved) == (3, 0)


def test_a_shipped_order_can_be_delivered(customer, staff) -> None:
    order = _paid_order(customer, make_product())
    order_ship(order=order, actor=staff)

    assert order_deliver(order=order, actor=staff).status == Status.DELIVERED


@pytest.mark.parametrize(
    ("move", "from_status"),
    [
        ("ship", Status.PENDING),
        ("deliver", Status.PAID),
        ("cancel", Status.SHIPPED),
        ("cancel", Status.DELIVERED),
        ("cancel", Status.CANCELLED),
        ("mark_paid", Status.PAID),
    ],
)
def test_moves_outside_the_transition_table_conflict(customer, move, from_status) -> None:
    order = make_order(user=customer, lines={make_product(): 1})
    Order.objects.filter(pk=order.pk).update(status=from_status)
    moves = {
        "ship": order_ship,
        "deliver": order_deliver,
        "cancel": order_cancel,
        "mark_paid": order_mark_paid,
    }

    with pytest.raises(OrderStateConflict):
        moves[move](order=order, actor=customer)

    order.refresh_from_db()
    assert order.status == from_status


def test_every_transition_is_recorded_with_who_made_it(customer, staff) -> None:
    order = _paid_order(customer, make_product())
    order_ship(order=order, actor=staff)
    order_deliver(order=order, actor=staff)

    history = list(order.status_changes.values_list("from_status", "to_status", "actor__username"))

    assert history == [
        ("", "pending", "alice"),
        ("pending", "paid", "alice"),
        ("paid", "shipped", "stella"),
        ("shipped", "delivered", "stella"),
    ]
