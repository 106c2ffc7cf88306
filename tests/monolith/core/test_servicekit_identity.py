"""The services' side of identity: the middleware and DRF authentication they reuse."""

from __future__ import annotations

import logging
import time

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from strangler.identity import Identity, sign_identity
from strangler.servicekit.identity import (
    IdentityUser,
    StranglerIdentityAuthentication,
    identity_middleware,
)

SECRET = "service-test-identity-secret"
ALICE = Identity(user_id="7", username="alice", is_staff=False)
STELLA = Identity(user_id="9", username="stella", is_staff=True)


class WhoAmI(APIView):
    authentication_classes = [StranglerIdentityAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        user = request.user
        return Response({"id": user.pk, "username": user.username, "staff": user.is_staff})


class StaffOnly(WhoAmI):
    permission_classes = [IsAdminUser]


@pytest.fixture(autouse=True)
def _shared_secret(settings) -> None:
    settings.STRANGLER_IDENTITY_SECRET = SECRET


def signed(identity: Identity, *, secret: str = SECRET, now: float | None = None) -> str:
    return sign_identity(identity, secret=secret, now=time.time() if now is None else now)


def get(identity_header: str | None = None) -> HttpRequest:
    headers = {"X-Strangler-Identity": identity_header} if identity_header else {}
    return RequestFactory().get("/api/v1/whoami/", headers=headers)


def through_middleware(request: HttpRequest) -> HttpRequest:
    seen: list[HttpRequest] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(request)
        return HttpResponse("ok")

    response = identity_middleware(view)(request)
    assert response.status_code == 200
    return seen[0]


def test_the_middleware_turns_a_valid_header_into_the_user() -> None:
    request = through_middleware(get(signed(ALICE)))

    assert request.strangler_identity == ALICE
    assert request.user.is_authenticated
    assert (request.user.pk, request.user.id, request.user.username) == ("7", "7", "alice")
    assert request.user.is_staff is False


def test_without_a_header_the_request_is_anonymous() -> None:
    request = through_middleware(get())

    assert request.strangler_identity is None
    assert not request.user.is_authenticated
    assert request.user.is_anonymous


def test_an_expired_header_is_anonymous_and_logged_without_its_value(caplog) -> None:
    value = signed(ALICE, now=time.time() - 3600)

    with caplog.at_level(logging.WARNING, logger="strangler.servicekit.identity"):
        request = through_middleware(get(value))

    assert request.strangler_identity is None
    assert not request.user.is_authenticated
    assert "expired" in caplog.text
    assert value not in caplog.text


def test_a_header_signed_with_another_secret_is_anonymous(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="strangler.servicekit.identity"):
        request = through_middleware(get(signed(STELLA, secret="guessed")))

    assert request.strangler_identity is None
    assert "bad_signature" in caplog.text


def test_a_garbage_header_is_anonymous_never_an_error(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="strangler.servicekit.identity"):
        request = through_middleware(get("user=1;staff=1"))

    assert request.strangler_identity is None
    assert "malformed" in caplog.text


def test_without_an_identity_the_middleware_keeps_a_user_already_set() -> None:
    request = get()
    request.user = AnonymousUser()

    assert isinstance(through_middleware(request).user, AnonymousUser)


def test_the_middleware_refuses_to_start_without_a_secret(settings) -> None:
    settings.STRANGLER_IDENTITY_SECRET = ""

    with pytest.raises(ValueError, match="STRANGLER_IDENTITY_SECRET"):
        identity_middleware(lambda request: HttpResponse())


def test_a_drf_view_sees_the_asserted_user() -> None:
    response = WhoAmI.as_view()(get(signed(ALICE)))

    assert response.status_code == 200
    assert response.data == {"id": "7", "username": "alice", "staff": False}


def test_a_drf_view_answers_401_with_a_challenge_without_an_identity() -> None:
    response = WhoAmI.as_view()(get())

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_drf_view_answers_401_for_an_invalid_identity() -> None:
    response = WhoAmI.as_view()(get(signed(ALICE, secret="guessed")))

    assert response.status_code == 401


def test_staff_permissions_follow_the_asserted_staff_flag() -> None:
    assert StaffOnly.as_view()(get(signed(STELLA))).status_code == 200
    assert StaffOnly.as_view()(get(signed(ALICE))).status_code == 403


def test_the_header_is_verified_once_per_request_with_middleware_and_drf(caplog) -> None:
    def drf_view(request: HttpRequest) -> HttpResponse:
        return WhoAmI.as_view()(request)

    with caplog.at_level(logging.WARNING, logger="strangler.servicekit.identity"):
        response = identity_middleware(drf_view)(get(signed(ALICE, secret="guessed")))

    assert response.status_code == 401
    assert len(caplog.records) == 1


def test_the_lightweight_user_compares_by_identity() -> None:
    assert IdentityUser(ALICE) == IdentityUser(ALICE)
    assert IdentityUser(ALICE) != IdentityUser(STELLA)
    assert str(IdentityUser(ALICE)) == "alice"
