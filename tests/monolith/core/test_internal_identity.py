"""``POST /internal/identity/resolve``: the proxy's question "who is this session or token?"."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from django.test import Client
from multidict import CIMultiDict, CIMultiDictProxy
from rest_framework.authtoken.models import Token

from monolith.accounts.models import User
from strangler.identity import Identity, sign_internal_request, verify_identity
from strangler.proxy.identity import MonolithIdentityResolver
from tests.monolith.factories import PASSWORD, make_user
from tests.strangler.contrib.identity.identity_checks import signed_question

URL = "/internal/identity/resolve"
SECRET = "monolith-test-identity-secret"
ANONYMOUS = {"authenticated": False, "user_id": None, "username": None, "is_staff": False}


@pytest.fixture(autouse=True)
def _shared_secret(settings) -> None:
    settings.STRANGLER_IDENTITY_SECRET = SECRET


@pytest.fixture
def proxy() -> Client:
    # CSRF checks on, as in production: the endpoint must not need a CSRF token.
    return Client(enforce_csrf_checks=True)


def ask(
    client: Client,
    payload: Any,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    body: bytes | None = None,
) -> Any:
    body = json.dumps(payload).encode() if body is None else body
    return signed_question(client, body, secret=secret, timestamp=timestamp)


def session_of(user: User) -> str:
    browser = Client()
    assert browser.login(username=user.username, password=PASSWORD)
    return browser.cookies["sessionid"].value


def token_of(user: User) -> str:
    return Token.objects.create(user=user).key


def test_a_session_cookie_resolves_to_its_user(proxy, customer) -> None:
    response = ask(proxy, {"session_id": session_of(customer), "token": None})

    assert response.status_code == 200
    assert response.json() == {
        "authenticated": True,
        "user_id": str(customer.pk),
        "username": "alice",
        "is_staff": False,
    }


def test_a_token_resolves_to_its_user(proxy, staff) -> None:
    response = ask(proxy, {"session_id": None, "token": token_of(staff)})

    assert response.status_code == 200
    assert response.json() == {
        "authenticated": True,
        "user_id": str(staff.pk),
        "username": "stella",
        "is_staff": True,
    }


def test_an_unknown_token_is_not_authenticated(proxy, customer) -> None:
    response = ask(proxy, {"session_id": None, "token": "0" * 40})

    assert response.status_code == 200
    assert response.json() == ANONYMOUS


def test_an_unknown_token_does_not_fall_back_to_a_valid_session(proxy, customer) -> None:
    response = ask(proxy, {"session_id": session_of(customer), "token": "0" * 40})

    assert response.json() == ANONYMOUS


def test_a_token_wins_over_a_session_as_in_the_api(proxy, customer, staff) -> None:
    response = ask(proxy, {"session_id": session_of(customer), "token": token_of(staff)})

    assert response.json()["username"] == "stella"


def test_no_credential_is_not_authenticated(proxy, db) -> None:
    assert ask(proxy, {"session_id": None, "token": None}).json() == ANONYMOUS
    assert ask(proxy, {}).json() == ANONYMOUS


def test_an_unknown_session_is_not_authenticated(proxy, db) -> None:
    response = ask(proxy, {"session_id": "x" * 32, "token": None})

    assert response.json() == ANONYMOUS


@pytest.mark.parametrize(
    "payload",
    [
        {"token": "x" * 1000},
        {"token": "a b"},
        {"session_id": "s\nx" * 10},
        {"session_id": "é" * 32},
    ],
)
def test_a_credential_that_cannot_be_a_key_is_not_authenticated(proxy, db, payload) -> None:
    response = ask(proxy, payload)

    assert response.status_code == 200
    assert response.json() == ANONYMOUS


def test_a_session_is_not_authenticated_after_the_password_changes(proxy, customer) -> None:
    session_id = session_of(customer)
    customer.set_password("a-brand-new-password")
    customer.save()

    response = ask(proxy, {"session_id": session_id, "token": None})

    assert response.json() == ANONYMOUS


def test_a_session_is_not_authenticated_after_logout(proxy, customer) -> None:
    browser = Client()
    browser.login(username=customer.username, password=PASSWORD)
    session_id = browser.cookies["sessionid"].value
    browser.logout()

    response = ask(proxy, {"session_id": session_id, "token": None})

    assert response.json() == ANONYMOUS


def test_an_inactive_users_token_is_not_authenticated(proxy, db) -> None:
    user = make_user(username="gone", is_active=False)

    response = ask(proxy, {"session_id": None, "token": token_of(user)})

    assert response.json() == ANONYMOUS


def test_a_call_signed_with_another_secret_is_refused_403(proxy, customer) -> None:
    response = ask(proxy, {"token": token_of(customer)}, secret="guessed-secret")

    assert response.status_code == 403
    assert response.json()["code"] == "bad_signature"
    assert set(response.json()) == {"code", "message"}


def test_a_call_whose_body_was_changed_is_refused_403(proxy, customer) -> None:
    timestamp = int(time.time())
    signed_for = json.dumps({"token": None}).encode()
    mac = sign_internal_request(signed_for, secret=SECRET, timestamp=timestamp)

    response = proxy.post(
        URL,
        data=json.dumps({"token": token_of(customer)}),
        content_type="application/json",
        headers={"X-Strangler-Internal-Auth": mac, "X-Strangler-Timestamp": str(timestamp)},
    )

    assert response.status_code == 403
    assert response.json()["code"] == "bad_signature"


@pytest.mark.parametrize("offset", [-25, 25])
def test_a_timestamp_within_30_seconds_is_accepted(proxy, customer, offset) -> None:
    response = ask(proxy, {"token": token_of(customer)}, timestamp=int(time.time()) + offset)

    assert response.status_code == 200


@pytest.mark.parametrize("offset", [-35, 35, -3600])
def test_a_timestamp_more_than_30_seconds_off_is_refused_403(proxy, customer, offset) -> None:
    response = ask(proxy, {"token": token_of(customer)}, timestamp=int(time.time()) + offset)

    assert response.status_code == 403
    assert response.json()["code"] == "stale_timestamp"


def test_a_call_without_the_auth_headers_is_refused_403(proxy, db) -> None:
    response = proxy.post(URL, data={"token": None}, content_type="application/json")

    assert response.status_code == 403
    assert response.json()["code"] == "unauthenticated"


def test_a_signed_body_that_is_not_a_json_object_is_400(proxy, db) -> None:
    assert ask(proxy, None, body=b"not json").status_code == 400
    assert ask(proxy, ["token"]).status_code == 400
    assert ask(proxy, {"token": 42}).status_code == 400


def test_only_post_is_allowed(proxy, db) -> None:
    assert proxy.get(URL).status_code == 405


def test_the_answer_is_never_cached(proxy, customer) -> None:
    response = ask(proxy, {"token": token_of(customer)})

    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_the_proxys_resolver_and_this_endpoint_agree_on_the_contract(live_server) -> None:
    user = make_user(username="carol")
    key = token_of(user)

    async def resolve() -> Any:
        resolver = MonolithIdentityResolver(live_server.url, SECRET)
        try:
            return await resolver.resolve(
                CIMultiDictProxy(CIMultiDict({"Authorization": f"Token {key}"}))
            )
        finally:
            await resolver.close()

    identity = asyncio.run(resolve())

    assert identity is not None
    asserted = verify_identity(identity.header_value, secret=SECRET, now=time.time(), leeway=0)
    assert asserted == Identity(user_id=str(user.pk), username="carol", is_staff=False)
