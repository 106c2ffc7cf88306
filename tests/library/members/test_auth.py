"""The ``Authorization: ApiKey <key>`` scheme, on the API and on the HTML pages."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.test import Client
from members.auth import ApiKeyAuthentication
from members.models import Member
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from shelf.models import Book

from tests.library.conftest import ALICE_KEY, BOB_KEY, api_key


def _drf(authorization: str | None):
    factory = APIRequestFactory()
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    request = factory.get("/api/loans/", **headers)
    return ApiKeyAuthentication().authenticate(Request(request))


# The DRF authentication class


def test_drf_accepts_a_live_key_as_its_members_user(seeded) -> None:
    user, key = _drf(f"ApiKey {ALICE_KEY}")

    assert (user.username, key) == ("alice", ALICE_KEY)


@pytest.mark.parametrize("authorization", [None, "", "Bearer x", "Token lib_demo_alice"])
def test_drf_leaves_other_schemes_to_the_other_classes(seeded, authorization) -> None:
    assert _drf(authorization) is None


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        ("ApiKey", "Malformed ApiKey header: send 'Authorization: ApiKey <key>'."),
        ("ApiKey a b", "Malformed ApiKey header: send 'Authorization: ApiKey <key>'."),
        ("ApiKey lib_demo_carol", "Invalid or revoked API key."),
    ],
)
def test_drf_refuses_a_bad_key_with_a_reason(seeded, authorization, reason) -> None:
    with pytest.raises(AuthenticationFailed) as refused:
        _drf(authorization)

    assert str(refused.value.detail) == reason


def test_the_scheme_name_is_case_insensitive(seeded) -> None:
    user, _ = _drf(f"apikey {BOB_KEY}")

    assert user.username == "bob"


# The Django backend


def test_the_backend_authenticates_by_api_key_and_nothing_else(seeded) -> None:
    assert authenticate(None, api_key=ALICE_KEY).username == "alice"
    assert authenticate(None, api_key="lib_demo_carol") is None
    # The password still works through the model backend; the key backend ignores it.
    assert authenticate(None, username="alice", password="alice-password").username == "alice"


# Over HTTP: the API


def test_the_api_serves_a_member_who_signs_with_a_key(seeded, api) -> None:
    response = api.get("/api/me/", **api_key(ALICE_KEY))

    assert response.status_code == 200
    assert response.json() == {
        "card_number": "C-0001",
        "username": "alice",
        "max_loans": 3,
        "joined": "2024-03-01",
        "open_loans": 1,
    }


def test_the_api_without_credentials_answers_401_naming_the_scheme(seeded, api) -> None:
    response = api.get("/api/me/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'ApiKey realm="library"'


@pytest.mark.parametrize("path", ["/api/me/", "/api/books/"])
def test_a_wrong_key_is_401_even_where_anonymous_users_may_read(seeded, api, path) -> None:
    response = api.get(path, **api_key("lib_demo_carol"))

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked API key."}
    assert response["WWW-Authenticate"] == 'ApiKey realm="library"'


def test_a_user_without_a_library_card_is_403(seeded, api) -> None:
    User.objects.create_user("librarian", password="pw-librarian-1")
    api.login(username="librarian", password="pw-librarian-1")

    response = api.get("/api/loans/")

    assert response.status_code == 403
    assert response.json() == {"detail": "Only members with a library card have loans."}


def test_a_key_needs_no_csrf_token_and_a_session_does(seeded) -> None:
    loans = "/api/loans/"
    strict = Client(enforce_csrf_checks=True)
    body = {"book": str(Book.objects.get(slug="the-golden-cities").pk)}

    signed = strict.post(loans, body, content_type="application/json", **api_key(BOB_KEY))
    strict.login(username="alice", password="alice-password")
    by_session = strict.post(loans, body, content_type="application/json")

    assert signed.status_code == 201
    assert by_session.status_code == 403
    assert "CSRF" in by_session.json()["detail"]


# Over HTTP: the HTML pages


def test_an_html_page_honours_the_key(seeded) -> None:
    response = Client().get("/loans/", **api_key(ALICE_KEY))

    assert response.status_code == 200
    assert response.context["member"] == Member.objects.get(card_number="C-0001")
    assert b"The Silent Cities" in response.content


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        ("ApiKey lib_demo_carol", "Invalid or revoked API key."),
        ("ApiKey ", "Malformed ApiKey header: send 'Authorization: ApiKey <key>'."),
    ],
)
@pytest.mark.parametrize("path", ["/loans/", "/books/"])
def test_an_html_page_refuses_a_bad_key_instead_of_serving_it_anonymously(
    seeded, path, authorization, reason
) -> None:
    response = Client().get(path, HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'ApiKey realm="library"'
    assert response.json() == {"detail": reason}


def test_an_html_page_without_a_key_sends_an_anonymous_user_to_sign_in(seeded) -> None:
    response = Client().get("/loans/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/loans/"


def test_an_html_form_posted_with_a_key_needs_no_csrf_token(seeded) -> None:
    book = Book.objects.get(slug="the-golden-cities")

    response = Client(enforce_csrf_checks=True).post(
        f"/loans/borrow/{book.pk}/", **api_key(BOB_KEY)
    )

    assert response.status_code == 302
    assert response["Location"] == "/loans/"
    assert book.loans.get().member.card_number == "C-0002"
