"""The demo's writes: bulk upserts by natural key, in batches of ``BATCH_SIZE``.

Each function writes one kind of row and reports its count and time through ``progress``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import timedelta
from itertools import islice
from typing import TypeVar

from django.db import models
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest
from django.utils.text import slugify

from monolith.accounts.models import Address, User
from monolith.catalog.models import Category, Product
from monolith.core.demo_data.catalogue import _CATALOGUE, _Leaf
from monolith.core.demo_data.order_plans import _OrderPlan
from monolith.core.demo_data.people import (
    _DEMO_CUSTOMERS,
    _FIRST_NAMES,
    _LAST_NAMES,
    CUSTOMER_PASSWORD,
    STAFF_PASSWORD,
    STAFF_USERNAME,
)
from monolith.core.demo_data.plans import (
    DEMO_CLOCK,
    _address_plan,
    _CustomerPlan,
    _moment,
    _password_hash,
    _product_stream,
    _ProductPlan,
    _stream,
)
from monolith.core.demo_data.scale import DemoScale
from monolith.inventory.models import Reservation, StockLevel
from monolith.orders.models import Order, OrderLine, OrderStatusChange

__all__ = ["BATCH_SIZE", "Progress"]

# Rows per bulk_create call. Inserting 100,000 products into an empty PostgreSQL 15 table
# (2 shared cores) took 17.0 s in batches of 250, 13.3 s at 500, 13.8 s at 1000, 12.6-15.2 s
# at 2000 and 14.9 s at 3000: flat, within the noise, from about 1000 up. 2000 keeps the
# widest row (orders, 17 columns) at 34,000 parameters, half PostgreSQL's limit of 65,535.
# On SQLite Django splits each call at 999 variables anyway (13.2-14.4 s from 250 to 4000).
BATCH_SIZE = 2000

_T = TypeVar("_T")
Progress = Callable[[str], None]


def _chunks(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _upsert(
    model: type[models.Model],
    rows: Sequence[models.Model],
    *,
    key: str,
    keep: frozenset[str] | set[str] = frozenset(),
) -> None:
    """Insert ``rows`` or overwrite the row with the same ``key``, but for the ``keep`` fields.

    Sets each row's pk: PostgreSQL and SQLite (3.35+) return the id of inserted and of
    updated rows alike.
    """
    update_fields = [
        f.name
        for f in model._meta.concrete_fields
        if not f.primary_key and f.name != key and f.name not in keep
    ]
    model._default_manager.bulk_create(
        rows,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=[key],
        update_fields=update_fields,
    )
    if any(row.pk is None for row in rows):
        raise RuntimeError("the database did not return ids from an upsert (needs RETURNING)")


def _report(progress: Progress, label: str, count: int, started: float) -> None:
    progress(f"  {label:<15} {count:>9,}  ({time.perf_counter() - started:.1f} s)")


def _users_upsert(
    *, scale: DemoScale, seed: int, progress: Progress
) -> tuple[User, list[_CustomerPlan]]:
    started = time.perf_counter()
    rng = _stream(seed, "customers")
    customer_hash = _password_hash(CUSTOMER_PASSWORD)
    staff = User(
        username=STAFF_USERNAME,
        email="staff@example.com",
        first_name="Stella",
        last_name="Staff",
        is_staff=True,
        is_superuser=True,
        password=_password_hash(STAFF_PASSWORD),
        date_joined=DEMO_CLOCK - timedelta(days=900),
    )
    customers: list[_CustomerPlan] = []
    for index in range(scale.customers):  # customer i never depends on how many follow
        if index < len(_DEMO_CUSTOMERS):
            username, first, last = _DEMO_CUSTOMERS[index]
        else:
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            username = f"{first}.{last}.{index - 1}".lower().replace(" ", "")
        user = User(
            username=username,
            email=f"{username}@example.com",
            first_name=first,
            last_name=last,
            password=customer_hash,
            date_joined=_moment(rng, hours_ago=(400 * 24, 800 * 24)),
        )
        customers.append(_CustomerPlan(user=user, address=_address_plan(rng, user=user)))
    _upsert(User, [staff, *(c.user for c in customers)], key="username", keep={"last_login"})
    _report(progress, "users", 1 + len(customers), started)
    return staff, customers


def _addresses_create_missing(*, customers: list[_CustomerPlan], progress: Progress) -> int:
    """Give each demo customer their address unless they have one: addresses have no
    natural key, and one a customer has edited stays theirs."""
    started = time.perf_counter()
    housed: set[int] = set()
    for chunk in _chunks((c.user.pk for c in customers), 900):  # under SQLite's 999 variables
        housed.update(Address.objects.filter(user_id__in=chunk).values_list("user_id", flat=True))
    missing = [c.address for c in customers if c.user.pk not in housed]
    for address in missing:
        address.user_id = address.user.pk  # the user had no pk when the address was planned
    Address.objects.bulk_create(missing, batch_size=BATCH_SIZE)
    _report(progress, "addresses", len(missing), started)
    return len(missing)


def _categories_upsert(*, progress: Progress) -> dict[_Leaf, int]:
    started = time.perf_counter()
    created = DEMO_CLOCK - timedelta(days=1000)
    roots = {
        root: Category(
            name=root.name,
            slug=slugify(root.name),
            description=root.description,
            created_at=created,
            updated_at=created,
        )
        for root in _CATALOGUE
    }
    _upsert(Category, list(roots.values()), key="slug")
    leaves = {
        leaf: Category(
            name=leaf.name,
            slug=f"{roots[root].slug}-{slugify(leaf.name)}",
            description=f"{leaf.name} in {root.name}.",
            parent=roots[root],
            created_at=created,
            updated_at=created,
        )
        for root in _CATALOGUE
        for leaf in root.leaves
    }
    _upsert(Category, list(leaves.values()), key="slug")
    _report(progress, "categories", len(roots) + len(leaves), started)
    return {leaf: category.pk for leaf, category in leaves.items()}


def _products_upsert(
    *, scale: DemoScale, seed: int, leaf_ids: dict[_Leaf, int], progress: Progress
) -> list[_ProductPlan]:
    started = time.perf_counter()
    stream = _product_stream(seed=seed, count=scale.products, leaf_ids=leaf_ids)
    catalogue: list[_ProductPlan] = []
    for batch in _chunks(stream, BATCH_SIZE):
        rows = [product for product, _ in batch]
        _upsert(Product, rows, key="sku")
        for product, on_hand in batch:
            catalogue.append(
                _ProductPlan(
                    pk=product.pk,
                    sku=product.sku,
                    name=product.name,
                    price=product.price,
                    is_active=product.is_active,
                    on_hand=on_hand,
                )
            )
        if len(catalogue) % 20_000 < BATCH_SIZE and len(catalogue) < scale.products:
            _report(progress, "products ...", len(catalogue), started)
    _report(progress, "products", len(catalogue), started)
    return catalogue


def _stock_levels_upsert(*, catalogue: list[_ProductPlan], progress: Progress) -> None:
    """Units on hand as seeded, reserved as the demo orders hold: valid on its own, since
    the seed never reserves more than is on hand; other orders are counted in afterwards."""
    started = time.perf_counter()
    for batch in _chunks(catalogue, BATCH_SIZE):
        rows = [
            StockLevel(
                product_id=p.pk, on_hand=p.on_hand, reserved=p.reserved, updated_at=DEMO_CLOCK
            )
            for p in batch
        ]
        _upsert(StockLevel, rows, key="product")
    _report(progress, "stock levels", len(catalogue), started)


def _orders_write(*, orders: list[_OrderPlan], progress: Progress) -> None:
    started = time.perf_counter()
    demo_orders = Order.objects.filter(
        number__range=(orders[0].order.number, orders[-1].order.number)
    )
    # Replace, not upsert: history has no natural key, and a different seed or size gives an
    # order different lines. Nothing references these three tables, so each is one DELETE.
    for child in (OrderStatusChange, OrderLine, Reservation):
        child._default_manager.filter(order__in=demo_orders).delete()
    for batch in _chunks(orders, BATCH_SIZE):
        _upsert(Order, [plan.order for plan in batch], key="number")
    _report(progress, "orders", len(orders), started)
    for label, rows in (
        ("order lines", [line for plan in orders for line in plan.lines]),
        ("reservations", [r for plan in orders for r in plan.reservations]),
        ("status changes", [change for plan in orders for change in plan.history]),
    ):
        started = time.perf_counter()
        for chunk in _chunks(rows, BATCH_SIZE):
            type(chunk[0])._default_manager.bulk_create(chunk)
        _report(progress, label, len(rows), started)


def _reserved_reconcile(*, progress: Progress) -> None:
    """Make every ``reserved`` the sum of the product's active reservations.

    A no-op after a clean seed; it matters when orders placed in the shop, or demo orders
    from an earlier, larger seed, also hold units. ``on_hand`` is raised if it must be, since
    the database refuses ``reserved > on_hand``.
    """
    started = time.perf_counter()
    held = Coalesce(
        Subquery(
            Reservation.objects.filter(
                product_id=OuterRef("product_id"), status=Reservation.Status.ACTIVE
            )
            .values("product_id")
            .annotate(total=Sum("quantity"))
            .values("total")
        ),
        0,
    )
    fixed = StockLevel.objects.exclude(reserved=held).update(
        reserved=held, on_hand=Greatest("on_hand", held)
    )
    _report(progress, "reserved fixed", fixed, started)
