"""The catalogue's HTML pages, with the shared base template's navigation."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from shelf.models import Author, Book

from tests.library.conftest import ALICE_KEY, api_key


@pytest.fixture
def client() -> Client:
    return Client()


def test_the_home_page_sends_to_the_book_list(seeded, client) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/books/"


def test_the_book_list_links_each_book_its_author_and_its_year(seeded, client) -> None:
    book = Book.objects.get(slug="the-golden-cities")

    response = client.get("/books/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/books/{book.pk}/"' in html
    assert f'href="/authors/{book.author.pk}/"' in html
    assert f'href="/books/published/{book.published}/"' in html
    assert html.count("<li>") == 12


def test_the_base_template_links_the_other_apps_for_anonymous_users(seeded, client) -> None:
    html = client.get("/authors/").content.decode()

    for link in (
        'href="/books/"',
        'href="/authors/"',
        'href="/accounts/login/"',
        'href="/api/books/"',
    ):
        assert link in html
    assert 'href="/loans/"' not in html


def test_the_base_template_shows_the_members_loans_and_card(seeded, client) -> None:
    html = client.get("/authors/", **api_key(ALICE_KEY)).content.decode()

    assert '<a href="/loans/">My loans (1)</a>' in html
    assert '<a href="/accounts/me/">Card C-0001</a>' in html
    assert 'action="/accounts/logout/"' in html


def test_a_book_page_is_found_by_uuid_and_by_slug(seeded, client) -> None:
    book = Book.objects.get(slug="the-golden-cities")

    by_id = client.get(f"/books/{book.pk}/")
    by_slug = client.get("/books/by-slug/the-golden-cities/")

    assert by_id.status_code == by_slug.status_code == 200
    assert by_id.context["book"] == by_slug.context["book"] == book
    assert b"2 of 2 copies on the shelf." in by_id.content
    assert b'href="/accounts/login/?next=' in by_id.content


def test_a_member_sees_the_borrow_form_on_a_book_page(seeded, client) -> None:
    book = Book.objects.get(slug="the-golden-cities")

    response = client.get(f"/books/{book.pk}/", **api_key(ALICE_KEY))

    assert f'action="/loans/borrow/{book.pk}/"'.encode() in response.content


@pytest.mark.parametrize(
    "path", [f"/books/{uuid.UUID(int=7)}/", "/books/by-slug/no-such-book/", "/authors/999/"]
)
def test_what_does_not_exist_is_404(seeded, client, path) -> None:
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/books/42/", "/books/not-a-uuid/", "/authors/x/"])
def test_a_key_of_the_wrong_shape_matches_no_url(seeded, client, path) -> None:
    assert client.get(path).status_code == 404


def test_the_books_of_a_year(seeded, client) -> None:
    year = Book.objects.get(slug="the-golden-cities").published

    response = client.get(f"/books/published/{year}/")

    assert response.status_code == 200
    assert f"<h1>Books published in {year}</h1>".encode() in response.content
    assert list(response.context["object_list"]) == list(Book.objects.filter(published=year))


def test_an_author_page_lists_their_books(seeded, client) -> None:
    author = Author.objects.get(slug="italo-calvino")

    response = client.get(f"/authors/{author.pk}/")

    assert response.status_code == 200
    assert b"<h1>Italo Calvino</h1>" in response.content
    assert b"Born 1923." in response.content
    for book in author.books.all():
        assert f'href="/books/{book.pk}/"'.encode() in response.content
