"""The storefront installs ``strangler.contrib.identity`` with DRF: its tokens resolve, and
its staff's permissions cross to the services, which then decide as the storefront does."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from rest_framework.authtoken.models import Token

from monolith.accounts.models import User
from strangler.contrib.identity import resolvers
from strangler.contrib.identity.config import identity_settings
from tests.monolith.factories import PASSWORD, make_user
from tests.strangler.contrib.identity.identity_checks import (
    assert_service_decides_as_monolith,
    resolved,
    signed_question,
)

SECRET = "monolith-test-identity-secret"


@pytest.fixture(autouse=True)
def _shared_secret(settings) -> None:
    settings.STRANGLER_IDENTITY_SECRET = SECRET


def catalog_editor(username: str = "stella") -> User:
    editors = Group.objects.create(name="catalog-editors")
    editors.permissions.add(
        *Permission.objects.filter(codename__in=["change_product", "view_product"])
    )
    user = make_user(username=username, is_staff=True)
    user.groups.add(editors)
    user.user_permissions.add(Permission.objects.get(codename="view_order"))
    return user


def test_with_drf_installed_the_default_resolvers_read_its_token_then_the_session(
    settings,
) -> None:
    settings.STRANGLER_IDENTITY = {}

    assert identity_settings().resolvers == (resolvers.drf_token, resolvers.session)


@pytest.mark.django_db
def test_a_drf_token_resolves_as_a_whole_authorization_header_too(client: Client) -> None:
    user = make_user(username="carol")
    body = f'{{"authorization": "Token {Token.objects.create(user=user).key}"}}'.encode()

    response = signed_question(client, body, secret=SECRET)

    assert response.json()["username"] == "carol"


@pytest.mark.django_db(transaction=True)
def test_a_staff_members_permissions_and_groups_cross_with_a_token(live_server) -> None:
    stella = catalog_editor()
    key = Token.objects.create(user=stella).key

    identity = resolved(live_server.url, {"Authorization": f"Token {key}"}, secret=SECRET)

    assert identity is not None
    assert identity.permissions == {
        "catalog.change_product",
        "catalog.view_product",
        "orders.view_order",
    }
    assert identity.groups == {"catalog-editors"}


@pytest.mark.django_db(transaction=True)
def test_a_services_has_perm_agrees_with_the_storefronts(live_server) -> None:
    stella = catalog_editor()
    root = make_user(username="root", is_staff=True, is_superuser=True)
    alice = make_user(username="alice")

    for user in (stella, root, alice):
        browser = Client()
        assert browser.login(username=user.username, password=PASSWORD)
        cookie = f"sessionid={browser.cookies['sessionid'].value}"
        identity = resolved(live_server.url, {"Cookie": cookie}, secret=SECRET)
        assert_service_decides_as_monolith(user, identity)
