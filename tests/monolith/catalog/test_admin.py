"""The catalog admin, driven through Django's test client as a superuser."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monolith.catalog.models import Category, Product
from monolith.inventory.models import StockLevel
from tests.monolith.factories import make_category, make_product, make_user


@pytest.fixture
def admin_browser(client, db):
    client.force_login(make_user(username="root", is_staff=True, is_superuser=True))
    return client


def _stock_inline(on_hand):
    return {
        "stock-TOTAL_FORMS": "1",
        "stock-INITIAL_FORMS": "0",
        "stock-MIN_NUM_FORMS": "1",
        "stock-MAX_NUM_FORMS": "1",
        "stock-0-on_hand": str(on_hand),
    }


def test_the_product_list_shows_products_for_searching(admin_browser):
    make_product(name="Blue Kettle", sku="KT-42")

    response = admin_browser.get(reverse("admin:catalog_product_changelist"), {"q": "kt-42"})

    assert response.status_code == 200
    assert "Blue Kettle" in response.content.decode()


def test_a_product_added_in_the_admin_gets_its_stock_level(admin_browser):
    response = admin_browser.post(
        reverse("admin:catalog_product_add"),
        {
            "name": "Blue Kettle",
            "slug": "blue-kettle",
            "sku": "KT-42",
            "price": "12.50",
            "currency": "EUR",
            "is_active": "on",
            **_stock_inline(6),
        },
    )

    assert response.status_code == 302
    product = Product.objects.get(sku="KT-42")
    assert StockLevel.objects.get(product=product).on_hand == 6


def test_the_admin_refuses_a_category_loop(admin_browser):
    top = make_category(name="Top", slug="top")
    below = make_category(parent=top)

    response = admin_browser.post(
        reverse("admin:catalog_category_change", args=[top.pk]),
        {"name": "Top", "slug": "top", "description": "", "parent": below.pk},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parent"]
    assert Category.objects.get(pk=top.pk).parent is None


@pytest.mark.parametrize("model", ["category", "product"])
def test_every_catalog_admin_list_renders(admin_browser, model):
    make_product(category=make_category(parent=make_category()))

    response = admin_browser.get(reverse(f"admin:catalog_{model}_changelist"))

    assert response.status_code == 200
