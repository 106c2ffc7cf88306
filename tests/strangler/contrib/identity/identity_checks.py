"""What the identity tests of both projects (tests.identity_project, the storefront) share:
asking the endpoint as the proxy does, and checking that a service then decides as Django
does."""

from __future__ import annotations

import asyncio
import time
from itertools import combinations
from typing import Any

from django.contrib.auth.context_processors import PermWrapper
from django.contrib.auth.models import Permission
from django.test import Client
from multidict import CIMultiDict, CIMultiDictProxy

from strangler.identity import Identity, sign_internal_request, verify_identity
from strangler.proxy.identity import MonolithIdentityResolver
from strangler.servicekit.identity_users import IdentityUser

RESOLVE_URL = "/internal/identity/resolve"


def signed_question(
    client: Client, body: bytes, *, secret: str, timestamp: int | None = None
) -> Any:
    """POST ``body`` to the endpoint, signed as the proxy signs it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = sign_internal_request(body, secret=secret, timestamp=timestamp)
    return client.post(
        RESOLVE_URL,
        data=body,
        content_type="application/json",
        headers={"X-Strangler-Internal-Auth": mac, "X-Strangler-Timestamp": str(timestamp)},
    )


def resolved(
    base_url: str, headers: dict[str, str], *, secret: str, **options: Any
) -> Identity | None:
    """What a service verifies after the proxy's resolver, asking the endpoint served at
    ``base_url``, resolved a client sending ``headers``."""

    async def resolve() -> Any:
        resolver = MonolithIdentityResolver(base_url, secret, **options)
        try:
            return await resolver.resolve(CIMultiDictProxy(CIMultiDict(headers)))
        finally:
            await resolver.close()

    asserted = asyncio.run(resolve())
    if asserted is None:
        return None
    return verify_identity(asserted.header_value, secret=secret, now=time.time(), leeway=0)


def _perms_of_every_kind() -> list[str]:
    return [
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.select_related("content_type")
    ]


def assert_service_decides_as_monolith(user: Any, identity: Identity | None) -> None:
    """The service's user for ``identity`` answers every permission question about every
    permission in the database as the monolith's ``user`` does."""
    monolith = type(user).objects.get(pk=user.pk)  # fresh: no permission cache
    assert identity is not None
    service = IdentityUser(identity)
    perms = _perms_of_every_kind()
    apps = sorted({perm.partition(".")[0] for perm in perms} | {"nothing"})
    for perm in [*perms, "auth.no_such_permission"]:
        assert service.has_perm(perm) == monolith.has_perm(perm), perm
        assert service.has_perm(perm, obj=monolith) == monolith.has_perm(perm, obj=monolith)
        assert (perm in PermWrapper(service)) == (perm in PermWrapper(monolith)), perm
    # The user's own permissions beside others, so that some pairs are granted and some not.
    for pair in combinations(sorted(monolith.get_all_permissions())[:4] + perms[:4], 2):
        assert service.has_perms(pair) == monolith.has_perms(pair), pair
    for app in apps:
        assert service.has_module_perms(app) == monolith.has_module_perms(app), app
        assert bool(PermWrapper(service)[app]) == bool(PermWrapper(monolith)[app]), app
    assert sorted(service.groups.values_list("name", flat=True)) == sorted(
        monolith.groups.values_list("name", flat=True)
    )
    assert (service.is_active, service.is_superuser, service.is_staff) == (
        monolith.is_active,
        monolith.is_superuser,
        monolith.is_staff,
    )
