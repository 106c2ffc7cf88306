from __future__ import annotations

from django.test import Client


def test_signing_in_goes_to_the_members_loans(seeded) -> None:
    client = Client()

    page = client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "alice-password"}, follow=True
    )

    assert page.status_code == 200
    assert b'action="/accounts/login/"' in page.content
    assert response.redirect_chain == [("/loans/", 302)]
    assert response.context["member"].card_number == "C-0001"


def test_the_profile_page_shows_the_card(seeded) -> None:
    client = Client()
    client.login(username="bob", password="bob-password")

    response = client.get("/accounts/me/")

    assert response.status_code == 200
    assert b"Card C-0002, a member since 2024-03-01." in response.content
    assert b"Up to 1 books at a time." in response.content


def test_signing_out_is_a_post_and_goes_back_to_the_books(seeded) -> None:
    client = Client()
    client.login(username="bob", password="bob-password")

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/books/"
    assert client.get("/accounts/me/").status_code == 302
