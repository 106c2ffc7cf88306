"""The demo-data command: counts, idempotence, determinism and the stock invariants."""

from __future__ import annotations

import itertools
from collections import Counter
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from monolith.accounts.models import Address, User
from monolith.catalog.models import Category, Product
from monolith.core.demo_data import (
    CUSTOMER_PASSWORD,
    STAFF_PASSWORD,
    STAFF_USERNAME,
    demo_scale,
)
from monolith.inventory.models import Reservation, StockLevel
from monolith.inventory.services import stock_reserve
from monolith.orders.models import Order, OrderLine, OrderStatusChange
from tests.monolith.factories import make_user

pytestmark = pytest.mark.django_db

PRODUCTS = 40  # enough for every order status, small enough for a fast test


def _seed(*, products: int = PRODUCTS, seed: int = 7) -> str:
    out = StringIO()
    call_command("seed_demo", "--products", str(products), "--seed", str(seed), stdout=out)
    return out.getvalue()


def _snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every seeded row by natural key; surrogate ids of child rows are left out."""
    return {
        "users": list(
            User.objects.order_by("username").values_list(
                "username", "email", "first_name", "last_name", "is_staff", "is_superuser",
                "password", "date_joined",
            )
        ),
        "addresses": list(
            Address.objects.order_by("user__username").values_list(
                "user__username", "full_name", "line1", "city", "postal_code", "country",
                "is_default", "created_at", "updated_at",
            )
        ),
        "categories": list(
            Category.objects.order_by("slug").values_list(
                "slug", "name", "description", "parent__slug", "created_at", "updated_at"
            )
        ),
        "products": list(
            Product.objects.order_by("sku").values_list(
                "sku", "slug", "name", "description", "price", "currency", "category__slug",
                "is_active", "created_at", "updated_at",
            )
        ),
        "stock": list(
            StockLevel.objects.order_by("product__sku").values_list(
                "product__sku", "on_hand", "reserved", "updated_at"
            )
        ),
        "orders": list(
            Order.objects.order_by("number").values_list(
                "number", "user__username", "status", "currency", "total", "shipping_name",
                "shipping_line1", "shipping_city", "shipping_postal_code", "shipping_country",
                "placed_at", "updated_at", "paid_at", "cancelled_at",
            )
        ),
        "lines": list(
            OrderLine.objects.order_by("order__number", "sku").values_list(
                "order__number", "sku", "product_name", "unit_price", "quantity", "line_total"
            )
        ),
        "reservations": list(
            Reservation.objects.order_by("order__number", "product__sku").values_list(
                "order__number", "product__sku", "quantity", "status", "created_at", "updated_at"
            )
        ),
        "history": list(
            OrderStatusChange.objects.order_by("order__number", "at", "to_status").values_list(
                "order__number", "from_status", "to_status", "actor__username", "note", "at"
            )
        ),
    }  # fmt: skip


def _wipe() -> None:
    for model in (OrderStatusChange, OrderLine, Reservation, Order, StockLevel, Product):
        model.objects.all().delete()
    Category.objects.filter(parent__isnull=False).delete()
    Category.objects.all().delete()
    Address.objects.all().delete()
    User.objects.all().delete()


def _held_by_active_reservations() -> dict[int, int]:
    held: Counter[int] = Counter()
    for product_id, quantity in Reservation.objects.filter(
        status=Reservation.Status.ACTIVE
    ).values_list("product_id", "quantity"):
        held[product_id] += quantity
    return held


def _assert_reserved_matches_active_reservations() -> None:
    held = _held_by_active_reservations()
    for product_id, on_hand, reserved in StockLevel.objects.values_list(
        "product_id", "on_hand", "reserved"
    ):
        assert reserved == held.get(product_id, 0), product_id
        assert reserved <= on_hand, product_id


def test_seeding_a_small_catalogue_creates_the_expected_rows() -> None:
    scale = demo_scale(products=PRODUCTS)

    output = _seed()

    assert Product.objects.count() == PRODUCTS
    assert StockLevel.objects.count() == PRODUCTS
    assert User.objects.filter(is_staff=False).count() == scale.customers
    assert Order.objects.count() == scale.orders
    assert Address.objects.filter(is_default=True).count() == scale.customers
    assert Category.objects.filter(parent=None).count() >= 8
    assert (
        Category.objects.exclude(parent=None).count() > Category.objects.filter(parent=None).count()
    )
    assert set(Order.objects.values_list("status", flat=True)) == set(Order.Status.values)
    assert Product.objects.filter(is_active=False).exists()
    assert StockLevel.objects.filter(on_hand=0).exists()
    assert "Demo data ready" in output


def test_the_demo_logins_are_a_superuser_and_two_customers() -> None:
    _seed()

    staff = User.objects.get(username=STAFF_USERNAME)
    alice, bob = User.objects.get(username="alice"), User.objects.get(username="bob")

    assert staff.is_staff
    assert staff.is_superuser
    assert staff.check_password(STAFF_PASSWORD)
    assert not alice.is_staff
    assert alice.check_password(CUSTOMER_PASSWORD)
    assert bob.password == alice.password  # hashed once, shared
    assert set(alice.orders.values_list("status", flat=True)) == set(Order.Status.values)


def test_products_have_unique_skus_slugs_and_positive_prices() -> None:
    _seed()

    skus = list(Product.objects.values_list("sku", flat=True))
    slugs = list(Product.objects.values_list("slug", flat=True))

    assert sorted(skus) == [f"SKU-{n:07d}" for n in range(1, PRODUCTS + 1)]
    assert len(set(slugs)) == PRODUCTS
    assert not Product.objects.filter(price__lte=Decimal("0")).exists()
    assert not Product.objects.filter(description="").exists()


def test_running_the_seed_again_changes_nothing() -> None:
    _seed()
    before = _snapshot()
    ids_before = dict(Product.objects.values_list("sku", "id"))

    _seed()

    assert _snapshot() == before
    assert dict(Product.objects.values_list("sku", "id")) == ids_before


def test_the_same_seed_gives_the_same_data_from_an_empty_database() -> None:
    _seed(seed=11)
    first = _snapshot()
    _wipe()

    _seed(seed=11)

    assert _snapshot() == first


def test_a_different_seed_gives_a_different_catalogue() -> None:
    _seed(seed=1)
    first = list(Product.objects.order_by("sku").values_list("name", "price"))

    _seed(seed=2)

    assert list(Product.objects.order_by("sku").values_list("name", "price")) != first


def test_reserved_equals_the_units_held_by_active_reservations() -> None:
    _seed()

    assert Reservation.objects.filter(status=Reservation.Status.ACTIVE).exists()
    _assert_reserved_matches_active_reservations()


def test_only_pending_and_paid_orders_hold_stock() -> None:
    _seed()

    holding = set(
        Reservation.objects.filter(status=Reservation.Status.ACTIVE).values_list(
            "order__status", flat=True
        )
    )

    assert holding == {Order.Status.PENDING, Order.Status.PAID}


def test_order_totals_equal_the_sum_of_their_lines() -> None:
    _seed()

    for order in Order.objects.prefetch_related("lines"):
        lines = list(order.lines.all())
        assert lines, order.number
        assert order.total == sum((line.line_total for line in lines), Decimal("0"))
        for line in lines:
            assert line.line_total == line.unit_price * line.quantity


def test_order_lines_snapshot_the_product() -> None:
    _seed()
    products = {p.pk: p for p in Product.objects.all()}

    for line in OrderLine.objects.all():
        product = products[line.product_id]
        assert (line.sku, line.product_name, line.unit_price) == (
            product.sku,
            product.name,
            product.price,
        )


def test_every_order_history_starts_at_pending_and_ends_at_its_status() -> None:
    _seed()

    for order in Order.objects.prefetch_related("status_changes"):
        changes = list(order.status_changes.all())
        assert changes[0].from_status == ""
        assert changes[0].to_status == Order.Status.PENDING
        assert changes[-1].to_status == order.status
        for earlier, later in itertools.pairwise(changes):
            assert later.from_status == earlier.to_status
            assert later.at >= earlier.at


def test_reseeding_counts_in_units_held_by_orders_placed_in_the_shop() -> None:
    _seed()
    level = StockLevel.objects.filter(on_hand__gt=0).order_by("product__sku").first()
    assert level is not None
    shopper = make_user(username="shopper")
    with transaction.atomic():
        order = Order.objects.create(
            number="SHOP-1", user=shopper, currency="EUR", total=Decimal("1.00"),
            shipping_name="Shopper", shipping_line1="1 Road", shipping_city="Berlin",
            shipping_postal_code="10115", shipping_country="DE",
        )  # fmt: skip
        stock_reserve(order=order, quantities={level.product_id: 1})

    _seed()

    _assert_reserved_matches_active_reservations()
    assert Order.objects.filter(number="SHOP-1").exists()


def test_a_smaller_seed_after_a_larger_one_keeps_stock_consistent() -> None:
    _seed(products=PRODUCTS * 2)

    _seed(products=PRODUCTS)

    _assert_reserved_matches_active_reservations()


def test_a_larger_catalogue_keeps_the_products_and_customers_of_a_smaller_one() -> None:
    _seed(products=PRODUCTS)
    products = _snapshot()["products"]
    users = _snapshot()["users"]

    _seed(products=PRODUCTS * 3)

    assert _snapshot()["products"][:PRODUCTS] == products
    assert set(users) <= set(_snapshot()["users"])
