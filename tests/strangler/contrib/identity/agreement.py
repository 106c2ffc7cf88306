"""The check both projects run: the service's ``IdentityUser`` decides as Django does."""

from __future__ import annotations

from itertools import combinations
from typing import Any

from django.contrib.auth.context_processors import PermWrapper
from django.contrib.auth.models import Permission

from strangler.identity import Identity
from strangler.servicekit.identity_users import IdentityUser


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
