"""Borrowing and returning through the API, signed with the members' API keys."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from loans.models import Loan
from shelf.models import Book

from tests.library.conftest import ALICE_KEY, BOB_KEY, api_key


def _book_id(slug: str) -> str:
    return str(Book.objects.get(slug=slug).pk)


def test_a_member_lists_their_own_loans(seeded, api) -> None:
    response = api.get("/api/loans/", **api_key(ALICE_KEY))

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": Loan.objects.get().pk,
            "book": _book_id("the-silent-cities"),
            "book_title": "The Silent Cities",
            "borrowed_on": "2024-03-01",
            "due_on": "2024-03-22",
            "returned": False,
            "returned_on": None,
        }
    ]
    assert api.get("/api/loans/", **api_key(BOB_KEY)).json()["results"] == []


def test_borrowing_creates_a_loan_due_after_the_loan_period(seeded, api) -> None:
    response = api.post(
        "/api/loans/", {"book": _book_id("the-golden-cities")}, format="json", **api_key(BOB_KEY)
    )

    assert response.status_code == 201
    today = timezone.localdate()
    body = response.json()
    assert body["borrowed_on"] == today.isoformat()
    assert body["due_on"] == (today + datetime.timedelta(days=21)).isoformat()
    assert api.get(f"/api/loans/{body['id']}/", **api_key(BOB_KEY)).json() == body


@pytest.mark.parametrize(
    ("book", "error"),
    [
        ("the-silent-cities", "No copy of “The Silent Cities” is on the shelf."),
        ("123e4567-e89b-12d3-a456-426614174000", None),
        ("not-a-uuid", None),
    ],
)
def test_a_refused_borrow_is_400_with_the_reason(seeded, api, book, error) -> None:
    book_id = _book_id(book) if error else book

    response = api.post("/api/loans/", {"book": book_id}, format="json", **api_key(BOB_KEY))

    assert response.status_code == 400
    assert list(response.json()) == ["book"]
    if error:
        assert response.json()["book"] == [error]


def test_borrowing_needs_credentials(seeded, api) -> None:
    response = api.post("/api/loans/", {"book": _book_id("the-golden-cities")}, format="json")

    assert response.status_code == 401
    assert not Loan.objects.filter(book__slug="the-golden-cities").exists()


def test_returning_a_loan(seeded, api) -> None:
    loan = Loan.objects.get()

    response = api.post(f"/api/loans/{loan.pk}/return/", **api_key(ALICE_KEY))
    again = api.post(f"/api/loans/{loan.pk}/return/", **api_key(ALICE_KEY))

    assert response.status_code == 200
    assert response.json()["returned"] is True
    assert response.json()["returned_on"] == timezone.localdate().isoformat()
    assert again.status_code == 409
    assert again.json() == {"detail": "This loan is already returned."}


def test_another_members_loan_is_403_to_return_and_404_to_read(seeded, api) -> None:
    loan = Loan.objects.get()  # alice's

    returned = api.post(f"/api/loans/{loan.pk}/return/", **api_key(BOB_KEY))
    read = api.get(f"/api/loans/{loan.pk}/", **api_key(BOB_KEY))

    assert returned.status_code == 403
    assert returned.json() == {"detail": "You can only return your own loans."}
    assert read.status_code == 404
    loan.refresh_from_db()
    assert loan.returned is False
