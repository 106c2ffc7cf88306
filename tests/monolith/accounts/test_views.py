"""The accounts pages through Django's test client: log in and out, register, profile."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from monolith.accounts.models import Address, User
from tests.monolith.factories import PASSWORD, make_address

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
LOGOUT = reverse("accounts:logout")
REGISTER = reverse("accounts:register")
PROFILE = reverse("accounts:profile")
ADD_ADDRESS = reverse("accounts:address-add")
HOME = reverse("catalog:product-list")

_NEW_USER = {
    "username": "carol",
    "email": "carol@example.com",
    "first_name": "Carol",
    "last_name": "",
    "password1": "Tr1cky-Lantern-9",
    "password2": "Tr1cky-Lantern-9",
}
_ADDRESS = {
    "address-label": "Home",
    "address-full_name": "Alice Example",
    "address-line1": "1 Market Street",
    "address-line2": "",
    "address-city": "Berlin",
    "address-postal_code": "10115",
    "address-country": "DE",
    "address-phone": "",
}


def _make_default_url(address):
    return reverse("accounts:address-make-default", args=[address.pk])


def _delete_url(address):
    return reverse("accounts:address-delete", args=[address.pk])


def _logged_in_user_id(client):
    return client.session.get(SESSION_KEY)


def _messages(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def browser(customer):
    client = Client()
    client.force_login(customer)
    return client


# --- log in / log out --------------------------------------------------------------------


def test_login_page_shows_a_form_with_a_csrf_token(client):
    response = client.get(LOGIN)

    assert response.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in response.content
    assert b'name="username"' in response.content


def test_logging_in_redirects_to_the_catalog_and_starts_a_session(client, customer):
    response = client.post(LOGIN, {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == HOME
    assert _logged_in_user_id(client) == str(customer.pk)


def test_logging_in_follows_a_local_next(client, customer):
    response = client.post(LOGIN, {"username": "alice", "password": PASSWORD, "next": "/cart/"})

    assert response["Location"] == "/cart/"


def test_logging_in_ignores_a_next_on_another_site(client, customer):
    response = client.post(
        LOGIN, {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"}
    )

    assert response["Location"] == HOME


def test_logging_in_with_a_wrong_password_shows_the_form_again(client, customer):
    response = client.post(LOGIN, {"username": "alice", "password": "wrong"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert _logged_in_user_id(client) is None


def test_logging_out_ends_the_session(browser):
    response = browser.post(LOGOUT)

    assert response.status_code == 302
    assert response["Location"] == HOME
    assert _logged_in_user_id(browser) is None


def test_logging_out_by_get_is_refused(browser, customer):
    response = browser.get(LOGOUT)

    assert response.status_code == 405
    assert _logged_in_user_id(browser) == str(customer.pk)


def test_the_login_form_is_refused_without_a_csrf_token(customer):
    client = Client(enforce_csrf_checks=True)

    response = client.post(LOGIN, {"username": "alice", "password": PASSWORD})

    assert response.status_code == 403
    assert _logged_in_user_id(client) is None


# --- register ----------------------------------------------------------------------------


def test_register_page_shows_a_form(client):
    response = client.get(REGISTER)

    assert response.status_code == 200
    assert b'name="password2"' in response.content
    assert b'name="csrfmiddlewaretoken"' in response.content


def test_registering_creates_the_user_and_logs_them_in(client):
    response = client.post(REGISTER, _NEW_USER)

    assert response.status_code == 302
    assert response["Location"] == HOME
    user = User.objects.get(username="carol")
    assert (user.email, user.first_name) == ("carol@example.com", "Carol")
    assert user.check_password(_NEW_USER["password1"])
    assert _logged_in_user_id(client) == str(user.pk)
    assert _messages(response) == ["Welcome, carol! Your account is ready."]


def test_registering_follows_a_local_next(client):
    response = client.post(f"{REGISTER}?next=/cart/", _NEW_USER)

    assert response["Location"] == "/cart/"


def test_registering_ignores_a_next_on_another_site(client):
    response = client.post(REGISTER, {**_NEW_USER, "next": "//evil.example/"})

    assert response["Location"] == HOME


def test_registering_with_mismatched_passwords_creates_no_user(client):
    response = client.post(REGISTER, {**_NEW_USER, "password2": "something-else-entirely"})

    assert response.status_code == 200
    assert "password2" in response.context["form"].errors
    assert not User.objects.filter(username="carol").exists()


def test_registering_with_a_taken_email_creates_no_user(client, customer):
    response = client.post(REGISTER, {**_NEW_USER, "email": "ALICE@example.com"})

    assert "email" in response.context["form"].errors
    assert not User.objects.filter(username="carol").exists()


def test_registering_with_a_weak_password_creates_no_user(client):
    response = client.post(REGISTER, {**_NEW_USER, "password1": "123", "password2": "123"})

    assert "password2" in response.context["form"].errors
    assert not User.objects.filter(username="carol").exists()


def test_the_register_page_sends_a_logged_in_user_on(browser):
    response = browser.get(REGISTER)

    assert response.status_code == 302
    assert response["Location"] == HOME


# --- profile -----------------------------------------------------------------------------


def test_profile_sends_an_anonymous_visitor_to_log_in(client):
    response = client.get(PROFILE)

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={PROFILE}"


def test_profile_lists_the_users_addresses_and_no_one_elses(browser, customer, other_customer):
    make_address(user=customer, line1="7 Linden Avenue")
    make_address(user=other_customer, line1="9 Secret Lane")

    response = browser.get(PROFILE)

    assert response.status_code == 200
    assert b"7 Linden Avenue" in response.content
    assert b"9 Secret Lane" not in response.content


def test_profile_form_saves_the_users_details(browser, customer):
    response = browser.post(
        PROFILE,
        {"first_name": "Alice", "last_name": "A", "email": "alice@example.org", "phone": "123"},
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.first_name, customer.email, customer.phone) == (
        "Alice",
        "alice@example.org",
        "123",
    )
    assert _messages(response) == ["Your profile has been saved."]


def test_profile_form_refuses_another_users_email(browser, customer, other_customer):
    response = browser.post(
        PROFILE, {"first_name": "", "last_name": "", "email": "bob@example.com", "phone": ""}
    )

    assert response.status_code == 200
    assert "email" in response.context["profile_form"].errors
    customer.refresh_from_db()
    assert customer.email == "alice@example.com"


def test_adding_the_first_address_makes_it_the_default(browser, customer):
    response = browser.post(ADD_ADDRESS, _ADDRESS)

    assert response.status_code == 302
    assert response["Location"] == PROFILE
    address = Address.objects.get(user=customer)
    assert (address.label, address.is_default) == ("Home", True)


def test_adding_an_address_with_a_bad_country_shows_the_error(browser, customer):
    response = browser.post(ADD_ADDRESS, {**_ADDRESS, "address-country": "de"})

    assert response.status_code == 200
    assert "country" in response.context["address_form"].errors
    assert not Address.objects.filter(user=customer).exists()


def test_adding_an_address_by_get_is_refused(browser):
    assert browser.get(ADD_ADDRESS).status_code == 405


def test_making_an_address_the_default_moves_the_default(browser, customer):
    first = make_address(user=customer)
    second = make_address(user=customer, is_default=False)

    response = browser.post(_make_default_url(second))

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)


def test_deleting_an_address_removes_it(browser, customer):
    address = make_address(user=customer)

    response = browser.post(_delete_url(address))

    assert response.status_code == 302
    assert not Address.objects.filter(pk=address.pk).exists()


def test_another_users_address_cannot_be_made_default(browser, other_customer):
    make_address(user=other_customer)
    theirs = make_address(user=other_customer, is_default=False)

    response = browser.post(_make_default_url(theirs))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert not theirs.is_default


def test_another_users_address_cannot_be_deleted(browser, other_customer):
    theirs = make_address(user=other_customer)

    response = browser.post(_delete_url(theirs))

    assert response.status_code == 404
    assert Address.objects.filter(pk=theirs.pk).exists()


def test_staff_cannot_delete_a_customers_address_from_their_profile(staff, customer):
    address = make_address(user=customer)
    client = Client()
    client.force_login(staff)

    response = client.post(_delete_url(address))

    assert response.status_code == 404
    assert Address.objects.filter(pk=address.pk).exists()
