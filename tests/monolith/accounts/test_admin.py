"""The accounts admin pages, as a superuser sees them."""

from __future__ import annotations

import pytest

from monolith.accounts.models import User
from tests.monolith.factories import make_address, make_user

pytestmark = pytest.mark.django_db


def test_the_user_list_finds_users_by_phone(admin_client):
    make_user(username="dora", phone="+49 555 0100")
    make_user(username="emil")

    response = admin_client.get("/admin/accounts/user/", {"q": "555 0100"})

    assert response.status_code == 200
    assert [user.username for user in response.context["cl"].result_list] == ["dora"]


def test_the_user_change_page_edits_the_phone(admin_client):
    user = make_user(username="dora")

    response = admin_client.get(f"/admin/accounts/user/{user.pk}/change/")

    assert response.status_code == 200
    assert "phone" in response.context["adminform"].form.fields


def test_adding_a_user_in_the_admin_asks_for_an_email(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "frida",
            "email": "frida@example.com",
            "usable_password": "true",
            "password1": "Tr1cky-Lantern-9",
            "password2": "Tr1cky-Lantern-9",
        },
    )

    assert response.status_code == 302
    assert User.objects.get(username="frida").email == "frida@example.com"


def test_the_address_list_filters_by_country(admin_client):
    make_address(user=make_user(), country="FR")
    german = make_address(user=make_user(), country="DE")

    response = admin_client.get("/admin/accounts/address/", {"country": "DE"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [german]


def test_the_address_admin_refuses_a_lowercase_country(admin_client):
    address = make_address(user=make_user())

    response = admin_client.post(
        f"/admin/accounts/address/{address.pk}/change/",
        {
            "user": address.user_id,
            "full_name": address.full_name,
            "line1": address.line1,
            "city": address.city,
            "postal_code": address.postal_code,
            "country": "de",
            "is_default": "on",
        },
    )

    assert response.status_code == 200
    assert "country" in response.context["adminform"].form.errors
