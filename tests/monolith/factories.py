"""Builders for test data: small functions with sensible defaults, overridable by keyword."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from monolith.accounts.models import Address, User
from monolith.catalog.models import Category, Product
from monolith.inventory.models import StockLevel

PASSWORD = "correct-horse-battery-staple"
# The production hasher takes ~0.3 s a password by design; tests create hundreds of users.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
_seq = itertools.count(1)


def make_user(*, username: str | None = None, is_staff: bool = False, **fields: Any) -> User:
    n = next(_seq)
    username = username or f"user{n}"
    fields.setdefault("email", f"{username}@example.com")
    return User.objects.create_user(
        username=username, password=PASSWORD, is_staff=is_staff, **fields
    )


def make_address(*, user: User, **fields: Any) -> Address:
    values: dict[str, Any] = {
        "full_name": f"{user.username} Example",
        "line1": "1 Market Street",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
        "is_default": not user.addresses.exists(),
    }
    values.update(fields)
    return Address.objects.create(user=user, **values)


def make_category(
    *, name: str | None = None, parent: Category | None = None, **fields: Any
) -> Category:
    n = next(_seq)
    name = name or f"Category {n}"
    fields.setdefault("slug", f"category-{n}")
    return Category.objects.create(name=name, parent=parent, **fields)


def make_product(
    *,
    name: str | None = None,
    price: Decimal | str = "10.00",
    stock: int = 10,
    reserved: int = 0,
    category: Category | None = None,
    **fields: Any,
) -> Product:
    n = next(_seq)
    name = name or f"Product {n}"
    fields.setdefault("slug", f"product-{n}")
    fields.setdefault("sku", f"SKU-{n:06d}")
    product = Product.objects.create(name=name, price=Decimal(price), category=category, **fields)
    StockLevel.objects.create(product=product, on_hand=stock, reserved=reserved)
    return product
