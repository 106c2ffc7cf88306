from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from loans.models import Loan
from members.models import ApiKey
from shelf.models import Author, Book


@pytest.mark.django_db
def test_it_seeds_the_books_asked_for_and_says_which_api_keys_work() -> None:
    out = io.StringIO()

    call_command("seed_library", books=70, stdout=out)

    assert Book.objects.count() == 70
    assert Author.objects.count() == 7
    assert Book.objects.filter(title="The Silent Cities, volume 2").exists()
    assert ApiKey.member_for("lib_demo_alice").card_number == "C-0001"
    assert ApiKey.member_for("lib_demo_marian").user.is_staff
    assert not ApiKey.member_for("lib_demo_alice").user.is_staff
    assert Loan.objects.filter(returned=False).count() == 1
    assert out.getvalue() == (
        "seeded 7 authors, 70 books and 3 members "
        "(API keys: lib_demo_alice, lib_demo_bob, lib_demo_marian)\n"
    )


@pytest.mark.django_db
def test_a_book_count_below_one_is_refused() -> None:
    err = io.StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command("seed_library", books=0, stderr=err)

    assert exited.value.code == 2
    assert "--books must be at least 1" in err.getvalue()
