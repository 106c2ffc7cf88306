"""The service's users answer Django's permission questions by Django's rules: pure, no
database and no ``django.contrib.auth`` behind them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from strangler.identity import Identity
from strangler.servicekit.identity_users import (
    AnonymousIdentityUser,
    IdentityGroup,
    IdentityUser,
)

EDITOR = Identity(
    user_id="8",
    username="eve",
    permissions=frozenset({"catalog.change_product", "catalog.view_product", "orders.view_order"}),
    groups=frozenset({"editors", "readers"}),
)
ROOT = Identity(user_id="1", username="root", is_superuser=True)


def test_a_user_has_the_permissions_the_monolith_listed_and_no_other() -> None:
    eve = IdentityUser(EDITOR)

    assert eve.has_perm("catalog.change_product")
    assert not eve.has_perm("catalog.delete_product")
    assert eve.has_perms(["catalog.change_product", "orders.view_order"])
    assert not eve.has_perms(["catalog.change_product", "catalog.delete_product"])
    assert eve.get_all_permissions() == set(EDITOR.permissions)


def test_module_permissions_follow_the_app_label_of_any_permission() -> None:
    eve = IdentityUser(EDITOR)

    assert eve.has_module_perms("catalog")
    assert eve.has_module_perms("orders")
    assert not eve.has_module_perms("cat")
    assert not eve.has_module_perms("payments")


def test_object_permissions_are_denied_as_djangos_model_backend_denies_them() -> None:
    eve = IdentityUser(EDITOR)

    assert not eve.has_perm("catalog.change_product", obj=object())
    assert eve.get_all_permissions(obj=object()) == set()


def test_an_active_superuser_has_every_permission() -> None:
    root = IdentityUser(ROOT)

    assert root.has_perm("anything.at_all")
    assert root.has_perm("anything.at_all", obj=object())
    assert root.has_perms(["a.b", "c.d"])
    assert root.has_module_perms("payments")


@pytest.mark.parametrize("identity", [EDITOR, ROOT])
def test_an_inactive_user_has_no_permission(identity: Identity) -> None:
    user = IdentityUser(replace(identity, is_active=False))

    assert not user.is_active
    assert not user.has_perm("catalog.change_product")
    assert not user.has_module_perms("catalog")
    assert user.get_all_permissions() == set()


@pytest.mark.parametrize("user", [IdentityUser(EDITOR), AnonymousIdentityUser()])
def test_a_permission_list_must_be_a_list_not_a_string(user: object) -> None:
    with pytest.raises(ValueError, match="iterable of permissions"):
        user.has_perms("catalog.change_product")  # type: ignore[attr-defined]


def test_groups_answer_the_questions_templates_and_views_ask() -> None:
    groups = IdentityUser(EDITOR).groups

    assert groups.filter(name="editors").exists()
    assert not groups.filter(name="admins").exists()
    assert groups.filter(name__in=["admins", "readers"]).count() == 1
    assert groups.values_list("name", flat=True) == ["editors", "readers"]
    assert groups.values_list("name") == [("editors",), ("readers",)]
    assert [str(group) for group in groups.all()] == ["editors", "readers"]
    assert groups.all()[0] == IdentityGroup("editors")


def test_only_the_group_name_crosses() -> None:
    with pytest.raises(ValueError, match="'id'"):
        IdentityUser(EDITOR).groups.values_list("id", flat=True)


def test_nobody_has_no_permission_and_no_group() -> None:
    nobody = AnonymousIdentityUser()

    assert not nobody.has_perm("catalog.view_product")
    assert not nobody.has_perms(["catalog.view_product"])
    assert not nobody.has_module_perms("catalog")
    assert nobody.get_all_permissions() == set()
    assert not nobody.groups.exists()
