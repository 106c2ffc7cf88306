"""The proxy's resolver against the app served live, and what a service then decides:
``has_perm`` on the service agrees with ``has_perm`` on the monolith."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from strangler.identity import Identity
from tests.identity_project.resolvers import bearer_token_for
from tests.strangler.contrib.identity.conftest import PASSWORD, SECRET, make_user, session_of
from tests.strangler.contrib.identity.identity_checks import (
    assert_service_decides_as_monolith,
    resolved,
)

pytestmark = pytest.mark.django_db(transaction=True)

Resolve = Callable[..., "Identity | None"]


@pytest.fixture
def through_proxy(live_server: Any) -> Resolve:
    """Resolve a client's headers as a proxy set up for this project does, against the
    app served live, and return what a service verifies."""

    def resolve(headers: dict[str, str], **options: Any) -> Identity | None:
        options.setdefault("session_cookie_name", "shop_session")
        return resolved(live_server.url, headers, secret=SECRET, **options)

    return resolve


def test_the_session_cookie_under_the_projects_name_crosses_the_proxy(through_proxy) -> None:
    alice = make_user("alice")
    cookie = f"csrftoken=x; shop_session={session_of(alice)}"

    assert through_proxy({"Cookie": cookie}) == Identity(user_id=str(alice.pk), username="alice")


def test_a_bearer_token_crosses_the_proxy_when_its_scheme_is_forwarded(through_proxy) -> None:
    stella = make_user("stella", is_staff=True)
    headers = {"Authorization": f"Bearer {bearer_token_for(stella)}"}

    assert through_proxy(headers) is None  # by default only Token goes
    identity = through_proxy(headers, schemes=["Token", "Bearer"])
    assert identity == Identity(user_id=str(stella.pk), username="stella", is_staff=True)
    assert through_proxy(headers, schemes=["*"]) == identity


def test_has_perm_on_the_service_agrees_with_the_monolith(through_proxy) -> None:
    editors = Group.objects.create(name="editors")
    editors.permissions.add(*Permission.objects.filter(codename__in=["change_group", "add_group"]))
    alice = make_user("alice")
    alice.groups.add(editors, Group.objects.create(name="readers"))
    alice.user_permissions.add(Permission.objects.get(codename="view_user"))
    stella = make_user("stella", is_staff=True)
    stella.user_permissions.add(Permission.objects.get(codename="view_session"))
    root = make_user("root", is_staff=True, is_superuser=True)
    nobody = make_user("nobody")

    for user in (alice, stella, root, nobody):
        identity = through_proxy({"Cookie": f"shop_session={session_of(user)}"})
        assert_service_decides_as_monolith(user, identity)


def test_an_inactive_user_has_no_permission_on_either_side(through_proxy, settings) -> None:
    # The one backend that lets an inactive user keep a session; the monolith then sees
    # them inactive, and so must the service.
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    gone = make_user("gone", is_superuser=True, is_active=False)
    gone.user_permissions.add(Permission.objects.get(codename="view_user"))
    browser = Client()
    assert browser.login(username="gone", password=PASSWORD)
    identity = through_proxy({"Cookie": f"shop_session={browser.cookies['shop_session'].value}"})

    assert identity is not None
    assert identity.is_active is False
    assert_service_decides_as_monolith(gone, identity)
