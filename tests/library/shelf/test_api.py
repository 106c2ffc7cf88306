"""The catalogue's API: books by UUID, authors (a router's viewset) by integer."""

from __future__ import annotations

import uuid

import pytest
from shelf.models import Author, Book


def test_the_book_list_is_paginated_with_authors_inline(seeded, api) -> None:
    response = api.get("/api/books/")

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 12
    assert body["next"] is None
    first = body["results"][0]
    assert first["title"] == "The Broken Cities"
    assert set(first) == {
        "id", "title", "slug", "author", "isbn", "published", "copies", "available",
        "loan_period_days",
    }  # fmt: skip
    assert set(first["author"]) == {"id", "name", "slug", "born"}


def test_a_book_by_its_uuid(seeded, api) -> None:
    book = Book.objects.get(slug="the-silent-cities")

    response = api.get(f"/api/books/{book.pk}/")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(book.pk),
        "title": "The Silent Cities",
        "slug": "the-silent-cities",
        "author": {
            "id": book.author.pk, "name": "Ursula K. Le Guin", "slug": "ursula-k-le-guin",
            "born": 1929,
        },
        "isbn": "9780000000000",
        "published": 1950,
        "copies": 1,
        "available": 0,
        "loan_period_days": 21,
    }  # fmt: skip


def test_the_loan_period_follows_the_setting(seeded, api, settings) -> None:
    settings.LOAN_DAYS = 14
    book = Book.objects.get(slug="the-silent-cities")

    assert api.get(f"/api/books/{book.pk}/").json()["loan_period_days"] == 14


def test_authors_by_integer_key_through_the_router(seeded, api) -> None:
    author = Author.objects.get(slug="octavia-e-butler")

    listed = api.get("/api/authors/")
    detail = api.get(f"/api/authors/{author.pk}/")

    assert listed.status_code == 200
    assert [a["name"] for a in listed.json()["results"]][:2] == ["Anonymous", "Italo Calvino"]
    assert detail.json() == {
        "id": author.pk, "name": "Octavia E. Butler", "slug": "octavia-e-butler", "born": 1947,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"/api/books/{uuid.UUID(int=7)}/", 404),
        ("/api/books/42/", 404),
        ("/api/authors/999/", 404),
        ("/api/authors/octavia-e-butler/", 404),
    ],
)
def test_unknown_or_misshapen_keys_are_404(seeded, api, path, status) -> None:
    assert api.get(path).status_code == status


def test_the_catalogue_is_read_only(seeded, api) -> None:
    from tests.library.conftest import ALICE_KEY, api_key

    response = api.post("/api/books/", {"title": "x"}, format="json", **api_key(ALICE_KEY))

    assert response.status_code == 405
