"""Reads for the accounts context: users and their address books."""

from __future__ import annotations

from django.db.models import QuerySet

from monolith.accounts.models import Address, User
from monolith.core.errors import NotFound

__all__ = [
    "address_get_default",
    "address_get_for_user",
    "address_list_for_user",
    "user_email_taken",
    "user_username_taken",
]


def user_username_taken(*, username: str, exclude_user_id: int | None = None) -> bool:
    """Whether another user has this username, ignoring case (as Django's own forms do)."""
    users = User.objects.filter(username__iexact=username)
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return users.exists()


def user_email_taken(*, email: str, exclude_user_id: int | None = None) -> bool:
    """Whether another user has this email, ignoring case: mailboxes are not case-sensitive."""
    users = User.objects.filter(email__iexact=email)
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return users.exists()


def address_list_for_user(*, user: User) -> QuerySet[Address]:
    """The user's addresses, the default first."""
    return Address.objects.filter(user=user).order_by("-is_default", "id")


def address_get_for_user(*, user: User, address_id: int) -> Address:
    """One of the user's addresses; someone else's is reported as missing, not forbidden."""
    try:
        return address_list_for_user(user=user).get(pk=address_id)
    except Address.DoesNotExist:
        raise NotFound(f"You have no address with id {address_id}.") from None


def address_get_default(*, user: User) -> Address | None:
    return address_list_for_user(user=user).filter(is_default=True).first()
