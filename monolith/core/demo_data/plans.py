"""The demo's customers and products, computed from the seed alone: no database is read.

Each kind of row draws from its own ``random.Random`` stream (``_stream``) and is timestamped
from the fixed demo clock (``_moment``); ``order_plans`` builds the orders on these.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.utils.text import slugify

from monolith.accounts.models import Address, User
from monolith.catalog.models import Product
from monolith.core.demo_data.catalogue import _CATALOGUE, _Leaf, _Root
from monolith.core.demo_data.people import _CITIES, _STREETS

__all__ = ["DEMO_CLOCK"]

# The demo's "now": orders are placed in the year before it. A fixed instant, not the wall
# clock, so two runs write identical timestamps.
DEMO_CLOCK = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)

_INACTIVE_SHARE = 0.05
_OUT_OF_STOCK_SHARE = 0.08
_CENTS = ("99", "99", "49", "95", "00")


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
