"""Accounts services and selectors against a real database."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from monolith.accounts.models import Address
from monolith.accounts.selectors import address_get_for_user, user_email_taken
from monolith.accounts.services import (
    address_create,
    address_delete,
    address_set_default,
    address_update,
    token_issue,
    token_revoke,
    user_profile_update,
    user_register,
)
from monolith.core.errors import Conflict, NotFound, StorefrontError
from tests.monolith.factories import make_address, make_user

pytestmark = pytest.mark.django_db

_ADDRESS = {
    "full_name": "Alice Example",
    "line1": "1 Market Street",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


def _default_ids(user):
    return list(Address.objects.filter(user=user, is_default=True).values_list("id", flat=True))


def test_registering_a_user_stores_the_password_hashed():
    user = user_register(username="carol", email="carol@example.com", password="s3cret-Pa55!")

    assert user.password != "s3cret-Pa55!"
    assert user.check_password("s3cret-Pa55!")


def test_registering_a_username_that_exists_raises_conflict():
    make_user(username="carol")

    with pytest.raises(Conflict) as raised:
        user_register(username="carol", email="other@example.com", password="s3cret-Pa55!")

    assert raised.value.code == "user_exists"


def test_issuing_a_token_twice_returns_the_same_token(customer):
    assert token_issue(user=customer).key == token_issue(user=customer).key


def test_revoking_a_token_deletes_it(customer):
    token_issue(user=customer)

    token_revoke(user=customer)

    assert not Token.objects.filter(user=customer).exists()


def test_profile_update_changes_only_the_given_fields(customer):
    user_profile_update(user=customer, phone="+49 30 1234567")

    customer.refresh_from_db()
    assert customer.phone == "+49 30 1234567"
    assert customer.email == "alice@example.com"


def test_profile_update_normalises_the_email_domain(customer):
    user_profile_update(user=customer, email="Alice@EXAMPLE.org")

    customer.refresh_from_db()
    assert customer.email == "Alice@example.org"


def test_email_taken_ignores_case(customer):
    assert user_email_taken(email="ALICE@example.com")


def test_email_taken_ignores_the_excluded_user(customer):
    assert not user_email_taken(email="alice@example.com", exclude_user_id=customer.pk)


def test_the_first_address_becomes_the_default_without_being_asked(customer):
    address = address_create(user=customer, **_ADDRESS)

    assert address.is_default


def test_a_later_address_is_not_the_default_unless_asked(customer):
    first = address_create(user=customer, **_ADDRESS)

    address_create(user=customer, **_ADDRESS)

    assert _default_ids(customer) == [first.pk]


def test_creating_a_default_address_takes_the_default_from_the_previous_one(customer):
    address_create(user=customer, **_ADDRESS)

    second = address_create(user=customer, **_ADDRESS, is_default=True)

    assert _default_ids(customer) == [second.pk]


def test_setting_a_default_leaves_other_users_addresses_alone(customer, other_customer):
    theirs = make_address(user=other_customer)
    make_address(user=customer)
    mine = make_address(user=customer, is_default=False)

    address_set_default(address=mine)

    assert _default_ids(customer) == [mine.pk]
    assert _default_ids(other_customer) == [theirs.pk]


def test_updating_an_address_to_default_unsets_the_previous_default(customer):
    make_address(user=customer)
    second = make_address(user=customer, is_default=False)

    address_update(address=second, is_default=True)

    assert _default_ids(customer) == [second.pk]


def test_unsetting_the_default_address_is_refused(customer):
    address = make_address(user=customer)

    with pytest.raises(StorefrontError) as raised:
        address_update(address=address, is_default=False, city="Hamburg")

    assert raised.value.code == "default_address_required"
    address.refresh_from_db()
    assert (address.is_default, address.city) == (True, "Berlin")


def test_update_leaves_fields_given_as_none_unchanged(customer):
    address = make_address(user=customer, line2="Floor 2")

    address_update(address=address, city="Hamburg", line2=None)

    address.refresh_from_db()
    assert (address.city, address.line2) == ("Hamburg", "Floor 2")


def test_deleting_the_default_address_promotes_the_oldest_remaining_one(customer):
    default = make_address(user=customer)
    older = make_address(user=customer, is_default=False)
    make_address(user=customer, is_default=False)

    address_delete(address=default)

    assert _default_ids(customer) == [older.pk]


def test_deleting_another_address_keeps_the_default(customer):
    default = make_address(user=customer)
    other = make_address(user=customer, is_default=False)

    address_delete(address=other)

    assert _default_ids(customer) == [default.pk]


def test_getting_another_users_address_raises_not_found(customer, other_customer):
    theirs = make_address(user=other_customer)

    with pytest.raises(NotFound):
        address_get_for_user(user=customer, address_id=theirs.pk)


def test_updating_an_address_deleted_meanwhile_raises_not_found(customer):
    # Two requests at once: one deletes the address after the other has read it.
    address = make_address(user=customer)
    Address.objects.filter(pk=address.pk).delete()

    with pytest.raises(NotFound):
        address_update(address=address, city="Hamburg")


def test_deleting_an_address_deleted_meanwhile_raises_not_found(customer):
    address = make_address(user=customer)
    Address.objects.filter(pk=address.pk).delete()

    with pytest.raises(NotFound):
        address_delete(address=address)
