"""The built-in resolvers and the helper a team's own resolver reads its scheme with."""

from __future__ import annotations

import pytest
from django.test import Client

from strangler.contrib.identity.resolvers import (
    CredentialRejected,
    Credentials,
    authorization_credential,
    session,
)
from tests.strangler.contrib.identity.conftest import PASSWORD, make_user, session_of


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc.def", "abc.def"),
        ("bearer abc", "abc"),
        ("BEARER  abc ", "abc"),
        ("Token abc", None),
        ("Bearerabc", None),
        (None, None),
        ("", None),
    ],
)
def test_the_credential_of_a_scheme_is_read_as_drf_reads_a_token(header, expected) -> None:
    assert authorization_credential(Credentials(authorization=header), "Bearer") == expected


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b"])
def test_the_scheme_without_exactly_one_credential_is_rejected(header) -> None:
    with pytest.raises(CredentialRejected):
        authorization_credential(Credentials(authorization=header), "Bearer")


@pytest.mark.django_db
def test_the_session_resolver_finds_the_logged_in_user() -> None:
    alice = make_user("alice")

    assert session(Credentials(session_key=session_of(alice))) == alice
    assert session(Credentials()) is None


@pytest.mark.django_db
def test_the_session_resolver_refuses_a_session_after_logout() -> None:
    make_user("alice")
    browser = Client()
    browser.login(username="alice", password=PASSWORD)
    key = browser.cookies["shop_session"].value
    browser.logout()

    assert session(Credentials(session_key=key)) is None


@pytest.mark.django_db
def test_the_session_resolver_refuses_a_session_after_the_password_changes() -> None:
    alice = make_user("alice")
    key = session_of(alice)
    alice.set_password("another-password")
    alice.save()

    assert session(Credentials(session_key=key)) is None
