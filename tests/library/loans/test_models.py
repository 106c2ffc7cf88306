from __future__ import annotations

import datetime
import re

import pytest
from django.db import IntegrityError
from loans.models import Loan, LoanRefused
from members.models import Member
from shelf.models import Book

DAY = datetime.date(2024, 5, 1)


@pytest.fixture
def alice(seeded) -> Member:
    return Member.objects.get(card_number="C-0001")


@pytest.fixture
def bob(seeded) -> Member:
    return Member.objects.get(card_number="C-0002")


def _book(slug: str) -> Book:
    return Book.objects.get(slug=slug)


def test_a_loan_is_due_after_the_loan_period(alice, settings) -> None:
    settings.LOAN_DAYS = 14

    loan = Loan.borrow(alice, _book("the-golden-cities"), today=DAY)

    assert (loan.borrowed_on, loan.due_on, loan.returned) == (
        DAY,
        datetime.date(2024, 5, 15),
        False,
    )


def test_the_last_copy_cannot_be_borrowed_twice(alice, bob) -> None:
    book = _book("the-silent-cities")  # one copy, alice has it

    with pytest.raises(
        LoanRefused, match=re.escape("No copy of “The Silent Cities” is on the shelf.")
    ):
        Loan.borrow(bob, book, today=DAY)


def test_a_member_borrows_up_to_their_limit(bob) -> None:
    Loan.borrow(bob, _book("the-golden-cities"), today=DAY)

    with pytest.raises(LoanRefused, match=re.escape("You already have 1 books out.")):
        Loan.borrow(bob, _book("the-hidden-cities"), today=DAY)


def test_a_member_cannot_hold_two_copies_of_one_book(alice) -> None:
    Loan.borrow(alice, _book("the-golden-cities"), today=DAY)

    with pytest.raises(LoanRefused, match=re.escape("You already have “The Golden Cities”.")):
        Loan.borrow(alice, _book("the-golden-cities"), today=DAY)


def test_the_database_refuses_a_second_open_loan_of_a_book_too(alice) -> None:
    with pytest.raises(IntegrityError):
        Loan.objects.create(
            member=alice, book=_book("the-silent-cities"), borrowed_on=DAY, due_on=DAY
        )


def test_a_returned_book_is_back_on_the_shelf_and_cannot_be_returned_again(alice) -> None:
    loan = alice.open_loans().get()

    loan.give_back(today=DAY)

    assert (loan.returned, loan.returned_on) == (True, DAY)
    assert _book("the-silent-cities").available_copies() == 1
    with pytest.raises(LoanRefused, match="already returned"):
        loan.give_back(today=DAY)
