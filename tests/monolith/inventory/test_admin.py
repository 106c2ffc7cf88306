"""The inventory admin, driven through Django's test client as a superuser."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monolith.inventory.models import StockLevel
from tests.monolith.factories import make_product, make_user


@pytest.fixture
def admin_browser(client, db):
    client.force_login(make_user(username="root", is_staff=True, is_superuser=True))
    return client


def test_staff_count_stock_in_the_admin(admin_browser):
    level = StockLevel.objects.get(product=make_product(stock=5))

    response = admin_browser.post(
        reverse("admin:inventory_stocklevel_change", args=[level.pk]), {"on_hand": "9"}
    )

    assert response.status_code == 302
    level.refresh_from_db()
    assert level.on_hand == 9


def test_the_admin_refuses_on_hand_below_what_is_reserved(admin_browser):
    level = StockLevel.objects.get(product=make_product(stock=5))
    StockLevel.objects.filter(pk=level.pk).update(reserved=4)

    response = admin_browser.post(
        reverse("admin:inventory_stocklevel_change", args=[level.pk]), {"on_hand": "3"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["on_hand"]
    level.refresh_from_db()
    assert level.on_hand == 5


def test_reservations_cannot_be_added_in_the_admin(admin_browser):
    response = admin_browser.get(reverse("admin:inventory_reservation_add"))

    assert response.status_code == 403


@pytest.mark.parametrize("model", ["stocklevel", "reservation"])
def test_every_inventory_admin_list_renders(admin_browser, model):
    make_product()

    response = admin_browser.get(reverse(f"admin:inventory_{model}_changelist"))

    assert response.status_code == 200
