"""The users a service sees: the one the proxy vouches for, and nobody.

``IdentityUser`` answers Django's permission questions (``has_perm``, ``has_perms``,
``has_module_perms``, ``groups``) from the permissions and group names the identity carries,
by the rules of Django's ``PermissionsMixin`` and ``ModelBackend``: an active superuser has
every permission, an inactive user none, and object permissions are not carried (checks
with ``obj`` are denied, as ``ModelBackend`` denies them). So ``{% if perms.catalog.
change_product %}`` and ``PermissionRequiredMixin`` decide on the service as on the
monolith, provided the monolith's identity app sends the ``permissions`` claim (and
``groups`` for group checks). Neither needs ``django.contrib.auth`` in the service.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from strangler.identity import Identity

__all__ = ["AnonymousIdentityUser", "IdentityGroup", "IdentityGroups", "IdentityUser"]


@dataclass(frozen=True)
class IdentityGroup:
    """A group the user is in, by name: what a template shows of a ``Group``."""

    name: str

    def __str__(self) -> str:
        return self.name


class IdentityGroups:
    """``user.groups`` as far as names answer it: ``all``, ``filter(name=...)``,
    ``filter(name__in=...)``, ``exists``, ``count``, ``values_list("name", flat=True)``."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = frozenset(names)

    def all(self) -> list[IdentityGroup]:
        return [IdentityGroup(name) for name in sorted(self.names)]

    def filter(
        self, *, name: str | None = None, name__in: Iterable[str] | None = None
    ) -> IdentityGroups:
        kept = self.names
        if name is not None:
            kept = kept & {name}
        if name__in is not None:
            kept = kept & frozenset(name__in)
        return IdentityGroups(kept)

    def exists(self) -> bool:
        return bool(self.names)

    def count(self) -> int:
        return len(self.names)

    def values_list(self, field: str, *, flat: bool = False) -> list[str] | list[tuple[str]]:
        if field != "name":
            raise ValueError(f"Only the group's name crosses the proxy, not {field!r}.")
        ordered = sorted(self.names)
        return ordered if flat else [(name,) for name in ordered]


def _perm_list(perm_list: Iterable[str]) -> list[str]:
    # Django raises the same for a string, which would otherwise be checked letter by letter.
    if isinstance(perm_list, str) or not isinstance(perm_list, Iterable):
        raise ValueError("perm_list must be an iterable of permissions.")
    return list(perm_list)


class IdentityUser:
    """The asserted user, shaped enough like ``User`` for DRF permissions and templates.

    ``pk`` and ``id`` are the monolith's user id as a string: ORM lookups on an integer
    column accept it, but compare with ``str(obj.user_id)`` in Python.
    """

    is_authenticated = True
    is_anonymous = False

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        self.pk = self.id = identity.user_id
        self.username = identity.username
        self.is_staff = identity.is_staff
        self.is_superuser = identity.is_superuser
        self.is_active = identity.is_active
        self.groups = IdentityGroups(identity.groups)

    def get_username(self) -> str:
        return self.username

    def get_all_permissions(self, obj: object = None) -> set[str]:
        """The permissions the monolith listed (none for an object, none when inactive).

        An active superuser's are not listed: ``has_perm`` answers yes to any of them."""
        if not self.is_active or obj is not None:
            return set()
        return set(self.identity.permissions)

    def has_perm(self, perm: str, obj: object = None) -> bool:
        if self.is_active and self.is_superuser:
            return True
        return perm in self.get_all_permissions(obj)

    def has_perms(self, perm_list: Iterable[str], obj: object = None) -> bool:
        return all(self.has_perm(perm, obj) for perm in _perm_list(perm_list))

    def has_module_perms(self, app_label: str) -> bool:
        if self.is_active and self.is_superuser:
            return True
        return any(perm.partition(".")[0] == app_label for perm in self.get_all_permissions())

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"<IdentityUser {self.pk} {self.username!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdentityUser) and other.identity == self.identity

    def __hash__(self) -> int:
        return hash(self.identity)


class AnonymousIdentityUser:
    """No identity asserted; needs no ``django.contrib.auth`` in the service."""

    is_authenticated = False
    is_anonymous = True
    is_active = False
    is_staff = False
    is_superuser = False
    pk = id = None
    username = ""
    groups = IdentityGroups()

    def get_username(self) -> str:
        return self.username

    def get_all_permissions(self, obj: object = None) -> set[str]:
        return set()

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return False

    def has_perms(self, perm_list: Iterable[str], obj: object = None) -> bool:
        return all(self.has_perm(perm, obj) for perm in _perm_list(perm_list))

    def has_module_perms(self, app_label: str) -> bool:
        return False

    def __str__(self) -> str:
        return "AnonymousUser"
