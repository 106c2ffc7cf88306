"""Borrowing and returning through the HTML forms, signed in with a session."""

from __future__ import annotations

import pytest
from django.test import Client
from loans.models import Loan
from shelf.models import Book


@pytest.fixture
def bob(seeded) -> Client:
    client = Client()
    assert client.login(username="bob", password="bob-password")
    return client


@pytest.fixture
def alice(seeded) -> Client:
    client = Client()
    assert client.login(username="alice", password="alice-password")
    return client


def test_my_loans_lists_open_and_returned_loans_with_a_return_form(alice) -> None:
    loan = Loan.objects.get()

    response = alice.get("/loans/")

    assert response.status_code == 200
    assert b"The Silent Cities" in response.content
    assert b"due 2024-03-22" in response.content
    assert f'action="/loans/{loan.pk}/return/"'.encode() in response.content


def test_the_borrow_form_lends_the_book_and_says_until_when(bob) -> None:
    book = Book.objects.get(slug="the-golden-cities")

    response = bob.post(f"/loans/borrow/{book.pk}/", follow=True)

    loan = Loan.objects.get(book=book)
    assert response.redirect_chain == [("/loans/", 302)]
    assert f"“The Golden Cities” is yours until {loan.due_on:%d %B %Y}.".encode() in (
        response.content
    )


def test_a_refused_borrow_goes_back_to_the_book_with_the_reason(bob) -> None:
    book = Book.objects.get(slug="the-silent-cities")

    response = bob.post(f"/loans/borrow/{book.pk}/", follow=True)

    assert response.redirect_chain == [(f"/books/{book.pk}/", 302)]
    assert "No copy of “The Silent Cities” is on the shelf.".encode() in response.content
    assert not Loan.objects.filter(member__card_number="C-0002").exists()


def test_borrowing_is_a_post(bob) -> None:
    book = Book.objects.get(slug="the-golden-cities")

    assert bob.get(f"/loans/borrow/{book.pk}/").status_code == 405


def test_the_return_form(alice) -> None:
    loan = Loan.objects.get()

    response = alice.post(f"/loans/{loan.pk}/return/", follow=True)

    loan.refresh_from_db()
    assert loan.returned is True
    assert "Thank you for returning “The Silent Cities”.".encode() in response.content


def test_another_members_loan_cannot_be_returned(bob) -> None:
    loan = Loan.objects.get()

    response = bob.post(f"/loans/{loan.pk}/return/")

    assert response.status_code == 403
    loan.refresh_from_db()
    assert loan.returned is False
