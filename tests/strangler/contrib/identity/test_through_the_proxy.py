"""The proxy's resolver against the app served live, and what a service then decides:
``has_perm`` on the service agrees with ``has_perm`` on the monolith."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from multidict import CIMultiDict, CIMultiDictProxy

from proxy.identity import MonolithIdentityResolver
from strangler.identity import Identity, verify_identity
from tests.identity_project.resolvers import bearer_token_for
from tests.strangler.contrib.identity.agreement import assert_service_decides_as_monolith
from tests.strangler.contrib.identity.conftest import PASSWORD, SECRET, make_user, session_of

pytestmark = pytest.mark.django_db(transaction=True)


def resolved(base_url: str, headers: dict[str, str], **options: Any) -> Identity | None:
    """What a service verifies after the proxy resolved a client sending ``headers``."""

    async def resolve() -> Any:
        resolver = MonolithIdentityResolver(base_url, SECRET, **options)
        try:
            return await resolver.resolve(CIMultiDictProxy(CIMultiDict(headers)))
        finally:
            await resolver.close()

    asserted = asyncio.run(resolve())
    if asserted is None:
        return None
    return verify_identity(asserted.header_value, secret=SECRET, now=time.time(), leeway=0)


def test_the_session_cookie_under_the_projects_name_crosses_the_proxy(live_server) -> None:
    alice = make_user("alice")
    cookie = f"csrftoken=x; shop_session={session_of(alice)}"

    identity = resolved(live_server.url, {"Cookie": cookie}, session_cookie_name="shop_session")

    assert identity == Identity(user_id=str(alice.pk), username="alice")


def test_a_bearer_token_crosses_the_proxy_when_its_scheme_is_forwarded(live_server) -> None:
    stella = make_user("stella", is_staff=True)
    headers = {"Authorization": f"Bearer {bearer_token_for(stella)}"}

    assert resolved(live_server.url, headers) is None  # by default only Token goes
    identity = resolved(live_server.url, headers, schemes=["Token", "Bearer"])
    assert identity == Identity(user_id=str(stella.pk), username="stella", is_staff=True)
    assert resolved(live_server.url, headers, schemes=["*"]) == identity


def _through_proxy(live_server: Any, user: User) -> Identity | None:
    cookie = f"shop_session={session_of(user)}"
    return resolved(live_server.url, {"Cookie": cookie}, session_cookie_name="shop_session")


def test_has_perm_on_the_service_agrees_with_the_monolith(live_server) -> None:
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
        assert_service_decides_as_monolith(user, _through_proxy(live_server, user))


def test_an_inactive_user_has_no_permission_on_either_side(live_server, settings) -> None:
    # The one backend that lets an inactive user keep a session; the monolith then sees
    # them inactive, and so must the service.
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    gone = make_user("gone", is_superuser=True, is_active=False)
    gone.user_permissions.add(Permission.objects.get(codename="view_user"))
    browser = Client()
    assert browser.login(username="gone", password=PASSWORD)
    cookie = f"shop_session={browser.cookies['shop_session'].value}"

    identity = resolved(live_server.url, {"Cookie": cookie}, session_cookie_name="shop_session")

    assert identity is not None
    assert identity.is_active is False
    assert_service_decides_as_monolith(gone, identity)
