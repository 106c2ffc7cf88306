"""Deterministic demo data for the storefront, behind ``python -m monolith seed_demo``.

Every value comes from ``random.Random`` streams seeded from ``seed``, one stream per kind of
row, so product 17 is the same product whether the catalogue holds 200 or 100,000. Rows are
upserted by natural key (username, category slug, product sku, order number ``DEMO-000001``);
a demo order's lines, reservations and history are replaced whole, since history has no key.
Timestamps are computed from a fixed demo clock, not read from the wall clock, so running the
seed twice leaves the same rows with the same values.
"""

from __future__ import annotations

import gc
import random
import string
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import islice
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest
from django.utils.text import slugify

from monolith.accounts.models import Address, User
from monolith.catalog.models import Category, Product
from monolith.inventory.models import Reservation, StockLevel
from monolith.orders.models import Order, OrderLine, OrderStatusChange

__all__ = [
    "CUSTOMER_PASSWORD",
    "DEMO_SIZES",
    "MAX_PRODUCTS",
    "STAFF_PASSWORD",
    "STAFF_USERNAME",
    "DemoScale",
    "SeedSummary",
    "demo_data_seed",
    "demo_order_number",
    "demo_scale",
]

DEMO_SIZES = {"small": 200, "medium": 5_000, "large": 100_000}
# SKU-0000001 and DEMO-000001 are fixed width, so each kind of demo row is one range of its
# unique index; ten times "large" leaves both formats room.
MAX_PRODUCTS = 1_000_000
STAFF_USERNAME = "staff"
STAFF_PASSWORD = "staff-demo-password"  # noqa: S105 (published in the README: a demo login)
CUSTOMER_PASSWORD = "demo-password"  # noqa: S105 (the same, for alice, bob and the rest)
# The demo's "now": orders are placed in the year before it. A fixed instant, not the wall
# clock, so two runs write identical timestamps.
DEMO_CLOCK = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
# Rows per bulk_create call. Inserting 100,000 products into an empty PostgreSQL 15 table
# (2 shared cores) took 17.0 s in batches of 250, 13.3 s at 500, 13.8 s at 1000, 12.6-15.2 s
# at 2000 and 14.9 s at 3000: flat, within the noise, from about 1000 up. 2000 keeps the
# widest row (orders, 17 columns) at 34,000 parameters, half PostgreSQL's limit of 65,535.
# On SQLite Django splits each call at 999 variables anyway (13.2-14.4 s from 250 to 4000).
BATCH_SIZE = 2000

_INACTIVE_SHARE = 0.05
_OUT_OF_STOCK_SHARE = 0.08
_CENTS = ("99", "99", "49", "95", "00")
_STATUS = Order.Status
# Weights of each status among generated orders, in percent.
_STATUS_MIX: dict[str, int] = {
    _STATUS.PENDING: 12,
    _STATUS.PAID: 18,
    _STATUS.SHIPPED: 15,
    _STATUS.DELIVERED: 45,
    _STATUS.CANCELLED: 10,
}
_HOLDS_STOCK: frozenset[str] = frozenset({_STATUS.PENDING, _STATUS.PAID})
_RESERVATION_STATUS: dict[str, str] = {
    _STATUS.PENDING: Reservation.Status.ACTIVE,
    _STATUS.PAID: Reservation.Status.ACTIVE,
    _STATUS.SHIPPED: Reservation.Status.FULFILLED,
    _STATUS.DELIVERED: Reservation.Status.FULFILLED,
    _STATUS.CANCELLED: Reservation.Status.RELEASED,
}
# How long ago (in hours) an order of each status was placed: pending ones are fresh,
# delivered ones old enough for the whole history to fit before the demo clock.
_PLACED_HOURS_AGO: dict[str, tuple[int, int]] = {
    _STATUS.PENDING: (1, 72),
    _STATUS.PAID: (2, 7 * 24),
    _STATUS.SHIPPED: (3 * 24, 14 * 24),
    _STATUS.DELIVERED: (10 * 24, 365 * 24),
    _STATUS.CANCELLED: (2 * 24, 365 * 24),
}

_T = TypeVar("_T")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoScale:
    products: int
    customers: int  # alice and bob included
    orders: int


def demo_scale(*, products: int) -> DemoScale:
    """How many customers and orders go with a catalogue of ``products``."""
    return DemoScale(products=products, customers=2 + products // 20, orders=max(10, products // 5))


def demo_order_number(*, index: int) -> str:
    """Fixed width, so the demo orders are one range of the unique index."""
    return f"DEMO-{index:06d}"


@dataclass(frozen=True)
class SeedSummary:
    users: int
    addresses_created: int
    categories: int
    products: int
    stock_levels: int
    orders: int
    order_lines: int
    reservations: int
    status_changes: int
    elapsed_seconds: float


@dataclass(slots=True)
class _ProductPlan:
    pk: int
    sku: str
    name: str
    price: Decimal
    is_active: bool
    on_hand: int
    reserved: int = 0


@dataclass(frozen=True)
class _CustomerPlan:
    user: User
    address: Address


@dataclass
class _OrderPlan:
    order: Order
    lines: list[OrderLine] = field(default_factory=list)
    reservations: list[Reservation] = field(default_factory=list)
    history: list[OrderStatusChange] = field(default_factory=list)


def demo_data_seed(*, products: int, seed: int, progress: Progress) -> SeedSummary:
    """Write the demo storefront for a catalogue of ``products``; safe to run again."""
    if not 1 <= products <= MAX_PRODUCTS:
        raise ValueError(f"products must be between 1 and {MAX_PRODUCTS:,}, not {products:,}")
    scale = demo_scale(products=products)
    started = time.perf_counter()
    with (
        _cyclic_gc_paused(),
        transaction.atomic(),
        _explicit_timestamps(
            Address, Category, Product, StockLevel, Order, Reservation, OrderStatusChange
        ),
    ):
        staff, customers = _users_upsert(scale=scale, seed=seed, progress=progress)
        addresses_created = _addresses_create_missing(customers=customers, progress=progress)
        leaf_ids = _categories_upsert(progress=progress)
        catalogue = _products_upsert(scale=scale, seed=seed, leaf_ids=leaf_ids, progress=progress)
        orders = _orders_plan(
            scale=scale, seed=seed, staff=staff, customers=customers, catalogue=catalogue
        )
        _stock_levels_upsert(catalogue=catalogue, progress=progress)
        _orders_write(orders=orders, progress=progress)
        _reserved_reconcile(progress=progress)
    return SeedSummary(
        users=1 + len(customers),
        addresses_created=addresses_created,
        categories=len(leaf_ids) + len(_CATALOGUE),
        products=len(catalogue),
        stock_levels=len(catalogue),
        orders=len(orders),
        order_lines=sum(len(plan.lines) for plan in orders),
        reservations=sum(len(plan.reservations) for plan in orders),
        status_changes=sum(len(plan.history) for plan in orders),
        elapsed_seconds=time.perf_counter() - started,
    )


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the seed holds ~10^6 live objects.

    It rescans them again and again for nothing: seeding 50,000 products on SQLite took
    17.6 s of CPU with it and 12.9 s without (two runs each). The seed makes few cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _explicit_timestamps(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let bulk_create write our timestamps: auto_now(_add) fields would stamp the wall clock.

    The fields are switched back on exit; the seed runs alone in its process, so no other
    save sees them off.
    """
    stamped = [
        f
        for model in model_classes
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateField) and (f.auto_now or f.auto_now_add)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in stamped]
    for f in stamped:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


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


@lru_cache(maxsize=2)
def _password_hash(password: str) -> str:
    """Hashed once per process and shared by every demo account with that password.

    The salt is derived from the password, so the stored hash (and the row) is the same on
    every run; these passwords are published, so a predictable salt hides nothing.
    """
    rng = _stream(0, f"salt:{password}")
    salt = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(22))
    return make_password(password, salt=salt)


def _stream(seed: int, name: str) -> random.Random:
    """One generator per kind of row, so adding customers does not reshuffle the products."""
    return random.Random(f"{seed}:{name}")  # noqa: S311 (reproducible on purpose; no secrets)


def _moment(rng: random.Random, *, hours_ago: tuple[int, int]) -> datetime:
    low, high = hours_ago
    return DEMO_CLOCK - timedelta(seconds=rng.randint(low * 3600, high * 3600))


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


def _address_plan(rng: random.Random, *, user: User) -> Address:
    city, country, postal_digits = rng.choice(_CITIES)
    return Address(
        user=user,
        label="Home",
        full_name=f"{user.first_name} {user.last_name}",
        line1=f"{rng.choice(_STREETS)} {rng.randint(1, 180)}",
        city=city,
        postal_code=str(rng.randrange(10 ** (postal_digits - 1), 10**postal_digits)),
        country=country,
        is_default=True,
        created_at=user.date_joined,
        updated_at=user.date_joined,
    )


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


def _product_stream(
    *, seed: int, count: int, leaf_ids: dict[_Leaf, int]
) -> Iterator[tuple[Product, int]]:
    """Products 1..count with their units on hand; product i never depends on ``count``."""
    rng = _stream(seed, "products")
    leaves: list[tuple[_Root, _Leaf]] = [
        (root, leaf) for root in _CATALOGUE for leaf in root.leaves
    ]
    currency = str(settings.STOREFRONT_CURRENCY)
    for index in range(1, count + 1):
        root, leaf = rng.choice(leaves)
        name = root.pattern.format(
            q=rng.choice(leaf.qualifiers), n=rng.choice(leaf.nouns), v=rng.choice(root.variants)
        )
        low, high = leaf.prices
        created = _moment(rng, hours_ago=(30 * 24, 900 * 24))
        product = Product(
            name=name,
            slug=f"{_slug(name)}-{index:07d}",
            sku=f"SKU-{index:07d}",
            description=f"{name}. {rng.choice(root.blurbs)}",
            price=Decimal(f"{rng.randint(low, high)}.{rng.choice(_CENTS)}"),
            currency=currency,
            category_id=leaf_ids[leaf],
            is_active=rng.random() >= _INACTIVE_SHARE,
            created_at=created,
            updated_at=created + timedelta(days=rng.randint(0, 29)),
        )
        on_hand = 0 if rng.random() < _OUT_OF_STOCK_SHARE else rng.randint(1, 250)
        yield product, on_hand


@lru_cache(maxsize=4096)
def _slug(name: str) -> str:
    return slugify(name)


def _orders_plan(
    *,
    scale: DemoScale,
    seed: int,
    staff: User,
    customers: list[_CustomerPlan],
    catalogue: list[_ProductPlan],
) -> list[_OrderPlan]:
    """Orders in every status; pending and paid ones reserve units, within what is on hand.

    The first ten go to alice and bob, one of each status each, so a demo login sees them all.
    """
    rng = _stream(seed, "orders")
    statuses = list(_STATUS_MIX)
    weights = list(_STATUS_MIX.values())
    plans: list[_OrderPlan] = []
    for index in range(1, scale.orders + 1):
        if index <= 2 * len(statuses):
            customer = customers[(index - 1) // len(statuses)]
            status = statuses[(index - 1) % len(statuses)]
        else:
            customer = rng.choice(customers)
            status = rng.choices(statuses, weights)[0]
        picks = _order_picks(rng, catalogue=catalogue, holds_stock=status in _HOLDS_STOCK)
        if not picks:  # nothing left to reserve in a tiny catalogue: a cancelled order, then
            status = _STATUS.CANCELLED
            picks = _order_picks(rng, catalogue=catalogue, holds_stock=False)
        plans.append(
            _order_plan(
                rng,
                number=demo_order_number(index=index),
                status=status,
                staff=staff,
                customer=customer,
                picks=picks,
            )
        )
    return plans


def _order_picks(
    rng: random.Random, *, catalogue: list[_ProductPlan], holds_stock: bool
) -> list[tuple[_ProductPlan, int]]:
    """One to four (product, quantity) pairs, popular (low-numbered) products more often.

    An order that holds stock takes only active products with the units free; it may come
    back empty. Past orders may name products since retired or sold out.
    """
    wanted = rng.choice((1, 1, 1, 2, 2, 3, 4))
    picks: dict[int, tuple[_ProductPlan, int]] = {}
    for _ in range(4 * wanted):
        product = catalogue[int(len(catalogue) * rng.random() ** 2)]
        quantity = rng.choice((1, 1, 1, 2, 3))
        free = product.is_active and product.on_hand - product.reserved >= quantity
        if product.pk not in picks and (free or not holds_stock):
            picks[product.pk] = (product, quantity)
            if len(picks) == wanted:
                break
    return list(picks.values())


def _order_plan(
    rng: random.Random,
    *,
    number: str,
    status: str,
    staff: User,
    customer: _CustomerPlan,
    picks: list[tuple[_ProductPlan, int]],
) -> _OrderPlan:
    address = customer.address
    placed = _moment(rng, hours_ago=_PLACED_HOURS_AGO[status])
    order = Order(
        number=number,
        user=customer.user,
        status=status,
        currency=str(settings.STOREFRONT_CURRENCY),
        total=sum((product.price * quantity for product, quantity in picks), Decimal("0.00")),
        shipping_name=address.full_name,
        shipping_line1=address.line1,
        shipping_line2=address.line2,
        shipping_city=address.city,
        shipping_postal_code=address.postal_code,
        shipping_country=address.country,
        placed_at=placed,
    )
    plan = _OrderPlan(order=order)
    at, previous = placed, ""
    for to_status, actor, note, max_minutes in _order_steps(rng, status=status):
        at += timedelta(minutes=rng.randint(1, max_minutes)) if previous else timedelta(0)
        plan.history.append(
            OrderStatusChange(
                order=order,
                from_status=previous,
                to_status=to_status,
                actor={"customer": customer.user, "staff": staff}.get(actor),
                note=note,
                at=at,
            )
        )
        order.paid_at = at if to_status == _STATUS.PAID else order.paid_at
        order.cancelled_at = at if to_status == _STATUS.CANCELLED else order.cancelled_at
        previous = to_status
    order.updated_at = at
    reservation_status = _RESERVATION_STATUS[status]
    for product, quantity in picks:
        plan.lines.append(
            OrderLine(
                order=order,
                product_id=product.pk,
                sku=product.sku,
                product_name=product.name,
                unit_price=product.price,
                quantity=quantity,
                line_total=product.price * quantity,
            )
        )
        plan.reservations.append(
            Reservation(
                order=order,
                product_id=product.pk,
                quantity=quantity,
                status=reservation_status,
                created_at=placed,
                # Settled (fulfilled or released) by the order's last step; active ones untouched.
                updated_at=at if status not in _HOLDS_STOCK else placed,
            )
        )
        if reservation_status == Reservation.Status.ACTIVE:
            product.reserved += quantity
    return plan


def _order_steps(rng: random.Random, *, status: str) -> list[tuple[str, str, str, int]]:
    """The transitions that led to ``status``: (to, actor, note, longest delay in minutes)."""
    steps: list[tuple[str, str, str, int]] = [(_STATUS.PENDING, "customer", "order placed", 0)]
    cancelled_after_payment = status == _STATUS.CANCELLED and rng.random() < 0.4
    if status in (_STATUS.PAID, _STATUS.SHIPPED, _STATUS.DELIVERED) or cancelled_after_payment:
        steps.append((_STATUS.PAID, "customer", "payment succeeded", 30))
    if status in (_STATUS.SHIPPED, _STATUS.DELIVERED):
        steps.append((_STATUS.SHIPPED, "staff", "handed to the carrier", 2 * 24 * 60))
    if status == _STATUS.DELIVERED:
        steps.append((_STATUS.DELIVERED, "carrier", "delivered", 4 * 24 * 60))
    if status == _STATUS.CANCELLED:
        who = rng.choice(("customer", "staff"))
        steps.append((_STATUS.CANCELLED, who, f"cancelled by {who}", 24 * 60))
    return steps


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


@dataclass(frozen=True)
class _Leaf:
    name: str
    qualifiers: tuple[str, ...]
    nouns: tuple[str, ...]
    prices: tuple[int, int]  # whole units of currency, inclusive


@dataclass(frozen=True)
class _Root:
    name: str
    description: str
    pattern: str  # a product name from {q}ualifier, {n}oun and {v}ariant
    variants: tuple[str, ...]
    blurbs: tuple[str, ...]
    leaves: tuple[_Leaf, ...]


# One root category per entry: its name, description, product-name pattern, variants and
# description blurbs, then its leaves (name, qualifiers, nouns, price range).
# fmt: off
_CATALOGUE = (
    _Root("Books", "Novels, non-fiction and cookbooks.", "The {q} {n} ({v})",
          ("Paperback", "Hardcover", "Illustrated Edition", "Large Print"),
          ("A reader favourite, reprinted.", "Shortlisted for three prizes.", "With notes."), (
        _Leaf("Fiction", ("Silent", "Forgotten", "Last", "Hidden", "Northern"),
              ("Harbour", "Orchard", "Winter", "Letters", "Lighthouse", "River"), (8, 24)),
        _Leaf("Science & Nature", ("Restless", "Living", "Invisible", "Deep"),
              ("Ocean", "Forest", "Universe", "Genome", "Climate"), (12, 45)),
        _Leaf("History", ("Fallen", "Golden", "Long", "Iron"),
              ("Empire", "Crown", "Republic", "Voyage", "Frontier"), (14, 40)),
        _Leaf("Cookbooks", ("Everyday", "Slow", "Green", "Salt-and-Smoke"),
              ("Kitchen", "Table", "Bakery", "Pantry", "Harvest"), (15, 38)),
        _Leaf("Children's Books", ("Sleepy", "Brave", "Little", "Curious"),
              ("Dragon", "Bear", "Moon", "Treehouse", "Robot"), (6, 18)),
    )),
    _Root("Electronics", "Audio, computers, phones and the smart home.", "{q} {n} {v}",
          ("Mini", "Pro", "Max", "Lite", "S2", "X1"),
          ("Two-year warranty.", "Ships with a USB-C cable.", "Firmware updates included."), (
        _Leaf("Audio", ("Voltra", "Nordik", "Aerix"),
              ("Wireless Headphones", "Bluetooth Speaker", "Soundbar", "Earbuds"), (29, 349)),
        _Leaf("Computers", ("Lumen", "Kestrel", "Orbit"),
              ("Laptop", "Mechanical Keyboard", "Monitor", "Wireless Mouse", "USB-C Dock"),
              (19, 1899)),
        _Leaf("Phones & Tablets", ("Orbit", "Aerix", "Pixelo"),
              ("Smartphone", "Tablet", "Fast Charger", "Power Bank"), (15, 1099)),
        _Leaf("Cameras", ("Kestrel", "Optika"),
              ("Mirrorless Camera", "Action Camera", "Travel Tripod", "Camera Bag"), (25, 1499)),
        _Leaf("Smart Home", ("Lumen", "Nordik", "Hearth"),
              ("Smart Plug", "Video Doorbell", "Thermostat", "Smart Bulb"), (15, 249)),
    )),
    _Root("Home", "Furniture, lighting, bedding and decor.", "{q} {n}, {v}",
          ("Black", "Navy", "Sand", "Sage", "Charcoal", "Ivory", "Terracotta"),
          ("Made to last.", "Assembly takes ten minutes.", "Designed in Copenhagen."), (
        _Leaf("Furniture", ("Oak", "Walnut", "Rattan", "Birch"),
              ("Side Table", "Bookshelf", "Armchair", "Dining Chair", "Sideboard"), (59, 899)),
        _Leaf("Lighting", ("Brass", "Ceramic", "Linen", "Glass"),
              ("Floor Lamp", "Pendant Light", "Desk Lamp", "Wall Sconce"), (25, 329)),
        _Leaf("Bedding", ("Linen", "Cotton", "Percale", "Waffle"),
              ("Duvet Cover", "Pillowcase Set", "Throw Blanket", "Fitted Sheet"), (19, 159)),
        _Leaf("Decor", ("Marble", "Stoneware", "Velvet", "Brass"),
              ("Vase", "Wall Mirror", "Picture Frame", "Candle Holder", "Cushion"), (9, 189)),
    )),
    _Root("Kitchen", "Cookware, tableware and small appliances.", "{q} {n}, {v}",
          ("Black", "Cream", "Sage Green", "Graphite", "Red"),
          ("Dishwasher safe.", "Works on every hob, induction too.", "A cook's favourite."), (
        _Leaf("Cookware", ("Cast-Iron", "Stainless", "Enamelled", "Carbon-Steel"),
              ("Skillet", "Saucepan", "Dutch Oven", "Wok", "Stockpot"), (19, 249)),
        _Leaf("Tableware", ("Stoneware", "Porcelain", "Speckled"),
              ("Dinner Plate", "Pasta Bowl", "Mug", "Serving Platter"), (6, 89)),
        _Leaf("Small Appliances", ("Compact", "Retro", "Digital"),
              ("Kettle", "Toaster", "Blender", "Coffee Grinder", "Hand Mixer"), (24, 299)),
        _Leaf("Storage", ("Glass", "Bamboo", "Stackable"),
              ("Storage Jar", "Spice Rack", "Bread Bin", "Lunch Box"), (7, 59)),
    )),
    _Root("Garden", "Tools, plants and outdoor furniture.", "{q} {n}, {v}",
          ("Green", "Anthracite", "Natural", "Terracotta"),
          ("Weatherproof.", "Frost-hardy.", "Built for years of use."), (
        _Leaf("Garden Tools", ("Stainless", "Heavy-Duty", "Ash-Handled"),
              ("Spade", "Pruning Shears", "Hand Trowel", "Rake", "Wheelbarrow"), (9, 149)),
        _Leaf("Plants & Seeds", ("Heirloom", "Organic", "Dwarf"),
              ("Tomato Seeds", "Lavender Plant", "Herb Seed Kit", "Tulip Bulbs"), (3, 39)),
        _Leaf("Outdoor Furniture", ("Teak", "Folding", "Aluminium"),
              ("Garden Bench", "Bistro Set", "Sun Lounger", "Parasol"), (49, 699)),
        _Leaf("Watering", ("Galvanised", "Self-Watering", "Expandable"),
              ("Watering Can", "Hose Reel", "Planter", "Rain Barrel"), (8, 129)),
    )),
    _Root("Sports & Outdoors", "Camping, cycling, fitness and running.", "{q} {n}, {v}",
          ("Black", "Blue", "Orange", "Olive"),
          ("Tested in the Alps.", "Packs down small.", "Reflective details."), (
        _Leaf("Camping", ("Ultralight", "2-Person", "4-Season"),
              ("Tent", "Sleeping Bag", "Camping Stove", "Headlamp"), (19, 549)),
        _Leaf("Cycling", ("Commuter", "Gravel", "Aero"),
              ("Bike Helmet", "Bike Light Set", "Cycling Jersey", "Pannier Bag"), (15, 199)),
        _Leaf("Fitness", ("Non-Slip", "Adjustable", "Studio"),
              ("Yoga Mat", "Kettlebell", "Resistance Bands", "Foam Roller"), (12, 149)),
        _Leaf("Running", ("Trail", "Road", "Cushioned"),
              ("Running Shoes", "Running Vest", "Hydration Belt"), (19, 189)),
    )),
    _Root("Toys & Games", "Board games, building sets and puzzles.", "{q} {n} ({v})",
          ("Ages 4+", "Ages 8+", "Ages 12+", "Family Edition"),
          ("Hours of play.", "A family favourite.", "No batteries needed."), (
        _Leaf("Board Games", ("Family", "Strategy", "Party", "Cooperative"),
              ("Board Game", "Card Game", "Dice Game"), (12, 69)),
        _Leaf("Building Sets", ("Castle", "Space Station", "Pirate Ship", "City Tram"),
              ("Building Set", "Construction Kit"), (15, 199)),
        _Leaf("Puzzles", ("Mountain Lake", "Old Town", "Night Sky", "Botanical"),
              ("Jigsaw Puzzle", "3D Puzzle"), (9, 45)),
    )),
    _Root("Fashion", "Bags, shoes, outerwear and accessories.", "{q} {n}, {v}",
          ("Black", "Navy", "Camel", "Olive", "Grey"),
          ("Responsibly made.", "Free returns within 30 days.", "True to size."), (
        _Leaf("Bags", ("Leather", "Canvas", "Waxed-Cotton"),
              ("Backpack", "Tote Bag", "Weekender", "Crossbody Bag"), (29, 349)),
        _Leaf("Shoes", ("Suede", "Leather", "Knit"),
              ("Sneakers", "Chelsea Boots", "Loafers"), (49, 249)),
        _Leaf("Outerwear", ("Quilted", "Wool", "Waterproof"),
              ("Jacket", "Parka", "Coat"), (69, 449)),
        _Leaf("Accessories", ("Merino", "Silk", "Leather"),
              ("Scarf", "Belt", "Gloves", "Beanie"), (12, 119)),
    )),
)
# fmt: on

# The two logins the README names come first, always.
_DEMO_CUSTOMERS = (("alice", "Alice", "Anderson"), ("bob", "Bob", "Brown"))
_FIRST_NAMES = (
    "Emma", "Liam", "Mia", "Noah", "Sofia", "Lukas", "Hannah", "Elias", "Lea", "Jonas",
    "Clara", "Felix", "Amelie", "Paul", "Ines", "Mateo", "Chloe", "Hugo", "Freya", "Oskar",
    "Nora", "Leon", "Ida", "Theo", "Lina", "Arthur", "Maya", "Emil", "Zoe", "Ben",
)  # fmt: skip
_LAST_NAMES = (
    "Schmidt", "Dubois", "Rossi", "Jansen", "Nowak", "Garcia", "Larsen", "Novak", "Costa",
    "Weber", "Moreau", "Bianchi", "de Vries", "Kowalski", "Lopez", "Nielsen", "Horvat",
    "Silva", "Fischer", "Laurent", "Ricci", "Bakker", "Wojcik", "Martin", "Berg", "Keller",
)  # fmt: skip
_STREETS = (
    "Market Street", "Lindenallee", "Rue des Fleurs", "Via Roma", "Kerkstraat",
    "Calle Mayor", "Hauptstrasse", "Station Road", "Parkweg", "Rue Victor Hugo",
)  # fmt: skip
# (city, ISO country code, postal code digits)
_CITIES = (
    ("Berlin", "DE", 5), ("Hamburg", "DE", 5), ("Munich", "DE", 5), ("Paris", "FR", 5),
    ("Lyon", "FR", 5), ("Milan", "IT", 5), ("Madrid", "ES", 5), ("Vienna", "AT", 4),
    ("Brussels", "BE", 4), ("Copenhagen", "DK", 4), ("Zurich", "CH", 4), ("Oslo", "NO", 4),
)  # fmt: skip
