"""Writes for the accounts context: registration, API tokens, profiles and address books.

Callers (forms, serializers) validate input shape and report field errors; these functions
keep the rules that span rows: one default address per user, and a user with addresses
always has a default one.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from rest_framework.authtoken.models import Token

from monolith.accounts.models import Address, User
from monolith.core.errors import Conflict, NotFound, StorefrontError

__all__ = [
    "address_create",
    "address_delete",
    "address_set_default",
    "address_update",
    "token_issue",
    "token_revoke",
    "user_profile_update",
    "user_register",
]


def user_register(
    *, username: str, email: str, password: str, first_name: str = "", last_name: str = ""
) -> User:
    """Create a customer account; the password is hashed, never stored as given."""
    try:
        with transaction.atomic():
            return User.objects.create_user(
                username=username,
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
            )
    except IntegrityError:
        # Only a concurrent registration gets here: callers check uniqueness first.
        raise Conflict(
            "A user with that username or email address already exists.", code="user_exists"
        ) from None


def token_issue(*, user: User) -> Token:
    """The user's API token, created on first use and reused after, so clients can share it."""
    token, _ = Token.objects.get_or_create(user=user)
    return token


def token_revoke(*, user: User) -> None:
    """Delete the user's API token; the next `token_issue` makes a new one."""
    Token.objects.filter(user=user).delete()


def user_profile_update(
    *,
    user: User,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> User:
    """Change the given profile fields; `None` leaves a field as it is."""
    changes: dict[str, str] = {
        name: value
        for name, value in {
            "first_name": first_name,
            "last_name": last_name,
            "email": User.objects.normalize_email(email) if email is not None else None,
            "phone": phone,
        }.items()
        if value is not None
    }
    for name, value in changes.items():
        setattr(user, name, value)
    if changes:
        user.save(update_fields=list(changes))
    return user


def _lock_address_book(*, user_id: int) -> None:
    # Serialises concurrent writes to one user's addresses (a row lock on PostgreSQL; SQLite
    # already serialises writers), so two requests cannot both leave or both take the default.
    list(User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True))


def _clear_default(*, user_id: int) -> None:
    Address.objects.filter(user_id=user_id, is_default=True).update(is_default=False)


@transaction.atomic
def address_create(
    *,
    user: User,
    full_name: str,
    line1: str,
    city: str,
    postal_code: str,
    country: str,
    label: str = "",
    line2: str = "",
    phone: str = "",
    is_default: bool = False,
) -> Address:
    """Add an address; the user's first address becomes the default whatever was asked."""
    _lock_address_book(user_id=user.pk)
    if not Address.objects.filter(user_id=user.pk).exists():
        is_default = True
    if is_default:
        _clear_default(user_id=user.pk)
    return Address.objects.create(
        user=user,
        label=label,
        full_name=full_name,
        line1=line1,
        line2=line2,
        city=city,
        postal_code=postal_code,
        country=country,
        phone=phone,
        is_default=is_default,
    )


def _refresh_default_flag(address: Address) -> None:
    # Under the address-book lock; a request that got in first may have deleted the address.
    try:
        address.refresh_from_db(fields=["is_default"])
    except Address.DoesNotExist:
        raise NotFound(f"You have no address with id {address.pk}.") from None


@transaction.atomic
def address_update(
    *,
    address: Address,
    label: str | None = None,
    full_name: str | None = None,
    line1: str | None = None,
    line2: str | None = None,
    city: str | None = None,
    postal_code: str | None = None,
    country: str | None = None,
    phone: str | None = None,
    is_default: bool | None = None,
) -> Address:
    """Change the given fields; `None` leaves a field as it is.

    `is_default=True` takes the default from the user's other address. `is_default=False`
    on the default address is refused: the user names the new default instead.
    """
    _lock_address_book(user_id=address.user_id)
    _refresh_default_flag(address)
    if is_default is False and address.is_default:
        raise StorefrontError(
            "This is your default address; make another address the default instead.",
            code="default_address_required",
        )
    changes = {
        name: value
        for name, value in {
            "label": label,
            "full_name": full_name,
            "line1": line1,
            "line2": line2,
            "city": city,
            "postal_code": postal_code,
            "country": country,
            "phone": phone,
        }.items()
        if value is not None
    }
    for name, value in changes.items():
        setattr(address, name, value)
    if is_default and not address.is_default:
        _clear_default(user_id=address.user_id)
        address.is_default = True
    address.save()
    return address


def address_set_default(*, address: Address) -> Address:
    return address_update(address=address, is_default=True)


@transaction.atomic
def address_delete(*, address: Address) -> None:
    """Delete an address; if it was the default, the oldest remaining one takes its place."""
    _lock_address_book(user_id=address.user_id)
    _refresh_default_flag(address)
    user_id, was_default = address.user_id, address.is_default
    address.delete()
    if was_default:
        successor = Address.objects.filter(user_id=user_id).order_by("id").first()
        if successor is not None:
            successor.is_default = True
            successor.save(update_fields=["is_default", "updated_at"])
