from __future__ import annotations

import io
import uuid

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from shelf.models import Author, Book


@pytest.mark.django_db
def test_a_book_gets_a_uuid_key_and_an_author_an_integer_one() -> None:
    author = Author.objects.create(name="Ann Leckie", slug="ann-leckie")
    book = Book.objects.create(
        title="Ancillary Justice", slug="ancillary-justice", author=author,
        isbn="9780316246620", published=2013,
    )  # fmt: skip

    assert isinstance(book.pk, uuid.UUID)
    assert isinstance(author.pk, int)
    assert Book.objects.get(pk=str(book.pk)) == book
    assert list(author.books.all()) == [book]


@pytest.mark.django_db
def test_two_books_cannot_share_a_slug() -> None:
    author = Author.objects.create(name="A", slug="a")
    Book.objects.create(title="X", slug="x", author=author, isbn="1", published=2000)

    with pytest.raises(IntegrityError):
        Book.objects.create(title="X again", slug="x", author=author, isbn="2", published=2001)


def test_the_seed_is_the_same_on_every_run(seeded) -> None:
    first = list(Book.objects.values_list("id", "slug", "author__slug", "copies"))
    call_command("seed_library", books=12, stdout=io.StringIO())

    assert list(Book.objects.values_list("id", "slug", "author__slug", "copies")) == first
    assert len(first) == 12
    assert Book.objects.get(slug="the-silent-cities").pk == uuid.uuid5(
        uuid.UUID("6f1c1e2a-3b7d-4c55-9a0e-2d7f5b8c9e10"), "the-silent-cities"
    )


def test_an_open_loan_takes_a_copy_off_the_shelf(seeded) -> None:
    book = Book.objects.get(slug="the-silent-cities")  # alice has it out

    assert (book.copies, book.available_copies()) == (1, 0)
