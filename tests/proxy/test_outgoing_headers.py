"""The client's headers as each upstream gets them, filtered once per request."""

from __future__ import annotations

from strangler.proxy.outgoing_headers import OutgoingHeaders

CLIENT = [
    (b"Authorization", b"Token t"),
    (b"Cookie", b"sessionid=s; csrftoken=c"),
    (b"Accept", b"*/*"),
]


def headers(identity: str | None = "signed") -> OutgoingHeaders:
    return OutgoingHeaders(
        list(CLIENT), identity=identity, service_cookies=frozenset({b"csrftoken"})
    )


def test_the_monolith_gets_the_clients_credentials_and_no_identity_header() -> None:
    assert headers().to(legacy=True) == CLIENT


def test_a_service_gets_no_monolith_credentials_and_the_signed_identity() -> None:
    assert headers().to(legacy=False) == [
        (b"Cookie", b"csrftoken=c"),
        (b"Accept", b"*/*"),
        (b"X-Strangler-Identity", b"signed"),
    ]


def test_without_a_resolved_user_a_service_gets_no_identity_header() -> None:
    assert headers(identity=None).service == [(b"Cookie", b"csrftoken=c"), (b"Accept", b"*/*")]


def test_a_services_headers_are_built_once_for_every_upstream_that_takes_them() -> None:
    outgoing = headers()

    assert outgoing.service is outgoing.to(legacy=False)
