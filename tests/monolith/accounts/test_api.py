"""The accounts API over HTTP: /api/v1/auth/* and /api/v1/me/*."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from monolith.accounts.models import Address, User
from tests.monolith.factories import PASSWORD, make_address, make_user

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/me/"
ADDRESSES = "/api/v1/me/addresses/"

_NEW_USER = {"username": "carol", "email": "carol@example.com", "password": "Tr1cky-Lantern-9"}
_ADDRESS = {
    "full_name": "Alice Example",
    "line1": "1 Market Street",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


def _address_url(address):
    return f"{ADDRESSES}{address.pk}/"


def _token_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# --- auth/register/ ----------------------------------------------------------------------


def test_register_creates_the_user_and_answers_with_a_working_token(anon_api):
    response = anon_api.post(REGISTER, {**_NEW_USER, "first_name": "Carol"})

    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("username", "email", "first_name", "last_name")} == {
        "username": "carol",
        "email": "carol@example.com",
        "first_name": "Carol",
        "last_name": "",
    }
    assert "password" not in body
    assert User.objects.get(pk=body["id"]).check_password(_NEW_USER["password"])
    assert _token_client(body["token"]).get(ME).json()["username"] == "carol"


def test_register_rejects_a_common_password(anon_api):
    response = anon_api.post(REGISTER, {**_NEW_USER, "password": "password123"})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["fields"]) == ["password"]
    assert not User.objects.filter(username="carol").exists()


def test_register_rejects_a_password_like_the_username(anon_api):
    response = anon_api.post(
        REGISTER, {**_NEW_USER, "username": "lanternmaker", "password": "lanternmaker1"}
    )

    assert response.status_code == 400
    assert "password" in response.json()["fields"]


def test_register_rejects_a_taken_username_whatever_its_case(anon_api, customer):
    response = anon_api.post(REGISTER, {**_NEW_USER, "username": "ALICE"})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["fields"]) == ["username"]


def test_register_rejects_a_taken_email_whatever_its_case(anon_api, customer):
    response = anon_api.post(REGISTER, {**_NEW_USER, "email": "Alice@Example.com"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["email"]


def test_register_names_every_missing_required_field(anon_api):
    response = anon_api.post(REGISTER, {})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"username", "email", "password"}


def test_register_works_for_a_client_still_sending_a_stale_token(anon_api):
    anon_api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = anon_api.post(REGISTER, _NEW_USER)

    assert response.status_code == 201


# --- auth/token/ -------------------------------------------------------------------------


def test_token_is_issued_for_valid_credentials(anon_api, customer):
    response = anon_api.post(TOKEN, {"username": "alice", "password": PASSWORD})

    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=customer).key}


def test_token_is_reused_across_logins(anon_api, customer):
    first = anon_api.post(TOKEN, {"username": "alice", "password": PASSWORD}).json()["token"]
    second = anon_api.post(TOKEN, {"username": "alice", "password": PASSWORD}).json()["token"]

    assert first == second


def test_token_is_refused_for_a_wrong_password(anon_api, customer):
    response = anon_api.post(TOKEN, {"username": "alice", "password": "wrong"})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["fields"]) == ["non_field_errors"]
    assert not Token.objects.filter(user=customer).exists()


def test_token_is_refused_for_a_deactivated_user(anon_api):
    make_user(username="gone", is_active=False)

    response = anon_api.post(TOKEN, {"username": "gone", "password": PASSWORD})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["non_field_errors"]


def test_token_request_names_missing_fields(anon_api):
    response = anon_api.post(TOKEN, {"username": "alice"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["password"]


# --- auth/logout/ ------------------------------------------------------------------------


def test_logout_answers_204_and_deletes_the_token(customer_api, customer):
    response = customer_api.post(LOGOUT)

    assert response.status_code == 204
    assert not Token.objects.filter(user=customer).exists()


def test_the_token_is_rejected_after_logout(customer_api):
    customer_api.post(LOGOUT)

    response = customer_api.get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_logout_leaves_other_users_tokens_alone(customer_api, other_api, other_customer):
    customer_api.post(LOGOUT)

    assert other_api.get(ME).status_code == 200


# --- anonymous callers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", LOGOUT),
        ("get", ME),
        ("patch", ME),
        ("get", ADDRESSES),
        ("post", ADDRESSES),
        ("get", f"{ADDRESSES}1/"),
        ("patch", f"{ADDRESSES}1/"),
        ("put", f"{ADDRESSES}1/"),
        ("delete", f"{ADDRESSES}1/"),
    ],
)
def test_anonymous_callers_get_401_not_authenticated(anon_api, method, path):
    response = getattr(anon_api, method)(path, {})

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- me/ ---------------------------------------------------------------------------------


def test_me_shows_the_callers_profile(customer_api, customer):
    response = customer_api.get(ME)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "id",
        "username",
        "email",
        "first_name",
        "last_name",
        "phone",
        "is_staff",
        "date_joined",
    }
    assert (body["id"], body["username"], body["is_staff"]) == (customer.pk, "alice", False)


def test_me_shows_staff_their_staff_flag(staff_api):
    assert staff_api.get(ME).json()["is_staff"] is True


def test_me_patch_updates_the_given_fields(customer_api, customer):
    response = customer_api.patch(
        ME, {"first_name": "Alice", "phone": "+49 30 1234567", "email": "alice@example.org"}
    )

    assert response.status_code == 200
    assert response.json()["email"] == "alice@example.org"
    customer.refresh_from_db()
    assert (customer.first_name, customer.phone, customer.email) == (
        "Alice",
        "+49 30 1234567",
        "alice@example.org",
    )


def test_me_patch_cannot_change_username_or_grant_staff(customer_api, customer):
    response = customer_api.patch(ME, {"username": "mallory", "is_staff": True})

    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.username, customer.is_staff) == ("alice", False)


def test_me_patch_rejects_another_users_email(customer_api, other_customer):
    response = customer_api.patch(ME, {"email": "BOB@example.com"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["email"]


def test_me_patch_accepts_the_callers_own_email(customer_api):
    assert customer_api.patch(ME, {"email": "alice@example.com"}).status_code == 200


def test_me_patch_rejects_a_malformed_email(customer_api, customer):
    response = customer_api.patch(ME, {"email": "not-an-email"})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    customer.refresh_from_db()
    assert customer.email == "alice@example.com"


def test_me_does_not_allow_put(customer_api):
    response = customer_api.put(ME, {"email": "alice@example.org"})

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


# --- me/addresses/ -----------------------------------------------------------------------


def test_address_list_shows_only_the_callers_addresses_default_first(customer_api, customer):
    make_address(user=make_user())
    plain = make_address(user=customer, is_default=False)
    default = make_address(user=customer, is_default=True)

    response = customer_api.get(ADDRESSES)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [default.pk, plain.pk]


def test_address_create_makes_the_first_address_the_default(customer_api, customer):
    response = customer_api.post(ADDRESSES, _ADDRESS)

    assert response.status_code == 201
    body = response.json()
    assert body["is_default"] is True
    assert Address.objects.get(pk=body["id"]).user == customer


def test_address_create_with_is_default_takes_the_default(customer_api, customer):
    first = make_address(user=customer)

    response = customer_api.post(ADDRESSES, {**_ADDRESS, "is_default": True})

    assert response.status_code == 201
    first.refresh_from_db()
    assert not first.is_default
    assert Address.objects.get(pk=response.json()["id"]).is_default


def test_address_create_keeps_the_existing_default_when_not_asked(customer_api, customer):
    make_address(user=customer)

    response = customer_api.post(ADDRESSES, _ADDRESS)

    assert response.json()["is_default"] is False


@pytest.mark.parametrize("country", ["de", "DEU", "D", "D1", ""])
def test_address_create_rejects_a_country_that_is_not_two_capitals(customer_api, country):
    response = customer_api.post(ADDRESSES, {**_ADDRESS, "country": country})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["fields"]) == ["country"]
    assert not Address.objects.exists()


def test_address_create_names_every_missing_required_field(customer_api):
    response = customer_api.post(ADDRESSES, {})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {
        "full_name",
        "line1",
        "city",
        "postal_code",
        "country",
    }


def test_address_detail_shows_the_callers_address(customer_api, customer):
    address = make_address(user=customer)

    response = customer_api.get(_address_url(address))

    assert response.status_code == 200
    assert response.json()["id"] == address.pk
    assert response.json()["country"] == "DE"


def test_another_users_address_is_not_found(customer_api, other_customer):
    theirs = make_address(user=other_customer)

    response = customer_api.get(_address_url(theirs))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_staff_cannot_see_a_customers_address_through_me(staff_api, customer):
    address = make_address(user=customer)

    assert staff_api.get(_address_url(address)).status_code == 404


def test_a_missing_address_id_is_not_found(customer_api):
    response = customer_api.get(f"{ADDRESSES}999999/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_address_patch_changes_the_given_fields(customer_api, customer):
    address = make_address(user=customer)

    response = customer_api.patch(_address_url(address), {"city": "Hamburg"})

    assert response.status_code == 200
    assert response.json()["city"] == "Hamburg"
    address.refresh_from_db()
    assert (address.city, address.postal_code) == ("Hamburg", "10115")


def test_address_patch_to_default_unsets_the_previous_default(customer_api, customer):
    first = make_address(user=customer)
    second = make_address(user=customer, is_default=False)

    response = customer_api.patch(_address_url(second), {"is_default": True})

    assert response.status_code == 200
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)


def test_address_patch_refuses_to_unset_the_default(customer_api, customer):
    address = make_address(user=customer)

    response = customer_api.patch(_address_url(address), {"is_default": False})

    assert response.status_code == 400
    assert response.json()["code"] == "default_address_required"
    address.refresh_from_db()
    assert address.is_default


def test_address_patch_rejects_a_lowercase_country(customer_api, customer):
    address = make_address(user=customer)

    response = customer_api.patch(_address_url(address), {"country": "fr"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["country"]
    address.refresh_from_db()
    assert address.country == "DE"


def test_address_put_replaces_the_address(customer_api, customer):
    address = make_address(user=customer)
    replacement = {**_ADDRESS, "full_name": "Alice B", "city": "Paris", "country": "FR"}

    response = customer_api.put(_address_url(address), replacement)

    assert response.status_code == 200
    address.refresh_from_db()
    assert (address.full_name, address.city, address.country) == ("Alice B", "Paris", "FR")


def test_address_put_requires_the_whole_address(customer_api, customer):
    address = make_address(user=customer)

    response = customer_api.put(_address_url(address), {"city": "Paris"})

    assert response.status_code == 400
    assert "full_name" in response.json()["fields"]


def test_another_users_address_cannot_be_changed(customer_api, other_customer):
    theirs = make_address(user=other_customer)

    response = customer_api.patch(_address_url(theirs), {"city": "Hamburg"})

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.city == "Berlin"


def test_address_delete_removes_the_address(customer_api, customer):
    address = make_address(user=customer)

    response = customer_api.delete(_address_url(address))

    assert response.status_code == 204
    assert not Address.objects.filter(pk=address.pk).exists()


def test_deleting_the_default_address_promotes_another(customer_api, customer):
    default = make_address(user=customer)
    remaining = make_address(user=customer, is_default=False)

    customer_api.delete(_address_url(default))

    remaining.refresh_from_db()
    assert remaining.is_default


def test_another_users_address_cannot_be_deleted(customer_api, other_customer):
    theirs = make_address(user=other_customer)

    response = customer_api.delete(_address_url(theirs))

    assert response.status_code == 404
    assert Address.objects.filter(pk=theirs.pk).exists()
