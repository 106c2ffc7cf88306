"""The librarians' write: ``POST /books/by-slug/<slug>/copies/`` sets a book's copies."""

from __future__ import annotations

import pytest
from django.test import Client
from shelf.models import Book

from tests.library.conftest import ALICE_KEY, LIBRARIAN_KEY, api_key

URL = "/books/by-slug/the-silent-cities/copies/"


@pytest.fixture
def client() -> Client:
    # As a browser's: CSRF is enforced, so a key-signed POST passing shows it needs no token.
    return Client(enforce_csrf_checks=True)


def copies() -> int:
    return Book.objects.get(slug="the-silent-cities").copies


def test_a_librarian_sets_the_copies_with_a_signed_post(seeded, client) -> None:
    response = client.post(URL, {"copies": "5"}, **api_key(LIBRARIAN_KEY))

    assert response.status_code == 302
    assert response["Location"] == "/books/by-slug/the-silent-cities/"
    assert copies() == 5
    page = client.get(response["Location"]).content
    assert b"4 of 5 copies on the shelf." in page  # alice has one out


def test_a_librarian_sees_the_form_and_a_member_does_not(seeded, client) -> None:
    form = f'action="{URL}"'.encode()

    assert form in client.get("/books/by-slug/the-silent-cities/", **api_key(LIBRARIAN_KEY)).content
    assert form not in client.get("/books/by-slug/the-silent-cities/", **api_key(ALICE_KEY)).content
    assert form not in client.get("/books/by-slug/the-silent-cities/").content


def test_a_signed_in_librarian_needs_the_forms_csrf_token(seeded, client) -> None:
    client.login(username="marian", password="marian-password")

    assert client.post(URL, {"copies": "5"}).status_code == 403  # no token: CSRF refuses
    page = client.get("/books/by-slug/the-silent-cities/")
    token = page.context["csrf_token"]
    assert client.post(URL, {"copies": "5", "csrfmiddlewaretoken": token}).status_code == 302
    assert copies() == 5


def test_a_member_who_is_not_staff_is_refused(seeded, client) -> None:
    response = client.post(URL, {"copies": "5"}, **api_key(ALICE_KEY))

    assert response.status_code == 403
    assert response.content == b"Only librarians can change a book's copies."
    assert copies() == 1


def test_an_anonymous_post_is_asked_for_a_key(seeded) -> None:
    response = Client().post(URL, {"copies": "5"})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'ApiKey realm="library"'
    assert copies() == 1


def test_a_bad_key_is_refused_before_the_view(seeded, client) -> None:
    response = client.post(URL, {"copies": "5"}, **api_key("lib_demo_nobody"))

    assert response.status_code == 401
    assert copies() == 1


@pytest.mark.parametrize("value", ["", "five", "-1", "2.5", "32768", "٣"])
def test_a_value_that_is_no_number_of_copies_is_400(seeded, client, value) -> None:
    response = client.post(URL, {"copies": value}, **api_key(LIBRARIAN_KEY))

    assert response.status_code == 400
    assert b"copies must be a whole number from 0 to 32767." in response.content
    assert copies() == 1


def test_fewer_copies_than_are_out_on_loan_is_400(seeded, client) -> None:
    response = client.post(URL, {"copies": "0"}, **api_key(LIBRARIAN_KEY))

    assert response.status_code == 400
    assert response.content == b"1 copies are out on loan: copies must be at least 1."
    assert copies() == 1


def test_zero_copies_of_a_book_nobody_has_is_fine(seeded, client) -> None:
    url = "/books/by-slug/the-golden-cities/copies/"

    assert client.post(url, {"copies": "0"}, **api_key(LIBRARIAN_KEY)).status_code == 302
    assert Book.objects.get(slug="the-golden-cities").copies == 0


def test_an_unknown_book_is_404_and_a_get_is_405(seeded, client) -> None:
    missing = "/books/by-slug/no-such-book/copies/"

    assert client.post(missing, {"copies": "2"}, **api_key(LIBRARIAN_KEY)).status_code == 404
    assert client.get(URL, **api_key(LIBRARIAN_KEY)).status_code == 405
