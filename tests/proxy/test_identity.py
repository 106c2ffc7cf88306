"""The identity resolver against a real in-process stand-in for the monolith's endpoint,
and identity through the whole proxy."""

# The stand-in's fixtures are imported, and the tests take them by name.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time

import pytest
from aiohttp import web

from strangler.identity import Identity, sign_force, sign_identity
from strangler.proxy.identity import MonolithIdentityResolver
from tests.proxy.conftest import held_until, table_for
from tests.proxy.identity_stand_in import (  # noqa: F401 - fixtures among them
    SECRET,
    headers,
    make_resolver,
    monolith,
    monolith_endpoint,
    resolve_calls,
    verified,
)

PRODUCTS = {"name": "products", "prefix": "/api/v1/products/", "owner": "catalog"}


async def test_a_client_without_credentials_is_anonymous_and_the_monolith_is_not_asked(
    monolith, make_resolver
) -> None:
    resolver = make_resolver(monolith.url)

    assert await resolver.resolve(headers(Accept="application/json")) is None
    assert await resolver.resolve(headers(Authorization="Bearer not-a-drf-token")) is None
    assert await resolver.resolve(headers(Cookie="csrftoken=abc")) is None
    assert monolith.seen == []


async def test_a_token_resolves_to_a_signed_identity_of_its_user(monolith, make_resolver) -> None:
    resolver = make_resolver(monolith.url)

    identity = await resolver.resolve(headers(Authorization="Token alice-token"))

    assert identity is not None
    assert identity.user_id == "7"
    assert verified(identity.header_value) == Identity("7", "alice", is_staff=False)


async def test_a_session_cookie_resolves_to_its_user(monolith, make_resolver) -> None:
    resolver = make_resolver(monolith.url)

    identity = await resolver.resolve(headers(Cookie="csrftoken=x; sessionid=stella-session"))

    assert identity is not None
    assert verified(identity.header_value) == Identity("9", "stella", is_staff=True)
    assert json.loads(resolve_calls(monolith)[0]["body"]) == {
        "session_id": "stella-session",
        "token": None,
    }


async def test_the_session_cookie_name_is_configurable(monolith, make_resolver) -> None:
    resolver = make_resolver(monolith.url, session_cookie_name="shop_session")

    identity = await resolver.resolve(headers(Cookie="shop_session=stella-session"))

    assert identity is not None
    assert identity.user_id == "9"


async def test_an_unknown_token_is_anonymous(monolith, make_resolver) -> None:
    resolver = make_resolver(monolith.url)

    assert await resolver.resolve(headers(Authorization="Token made-up")) is None
    assert len(resolve_calls(monolith)) == 1


async def test_a_second_request_with_the_same_credential_makes_no_call(
    monolith, make_resolver
) -> None:
    resolver = make_resolver(monolith.url)

    first = await resolver.resolve(headers(Authorization="Token alice-token"))
    second = await resolver.resolve(headers(Authorization="Token alice-token"))

    assert len(resolve_calls(monolith)) == 1
    assert first is not None
    assert second is not None
    assert verified(second.header_value) == verified(first.header_value)


async def test_an_unknown_credential_is_cached_too(monolith, make_resolver) -> None:
    resolver = make_resolver(monolith.url)

    for _ in range(3):
        assert await resolver.resolve(headers(Authorization="Token made-up")) is None

    assert len(resolve_calls(monolith)) == 1


async def test_a_cached_answer_is_asked_again_after_the_cache_ttl(monolith, make_resolver) -> None:
    now = [100.0]
    resolver = make_resolver(monolith.url, cache_ttl=10, clock=lambda: now[0])

    await resolver.resolve(headers(Authorization="Token alice-token"))
    now[0] += 9.9
    await resolver.resolve(headers(Authorization="Token alice-token"))
    assert len(resolve_calls(monolith)) == 1

    now[0] += 0.2
    await resolver.resolve(headers(Authorization="Token alice-token"))
    assert len(resolve_calls(monolith)) == 2


async def test_the_cache_forgets_the_least_recently_used_credential_when_full(
    monolith, make_resolver
) -> None:
    resolver = make_resolver(monolith.url, cache_size=2)

    for token in ("alice-token", "other-1", "alice-token", "other-2", "alice-token"):
        await resolver.resolve(headers(Authorization=f"Token {token}"))
    assert len(resolve_calls(monolith)) == 3  # alice stayed: she was used most recently

    await resolver.resolve(headers(Authorization="Token other-1"))
    assert len(resolve_calls(monolith)) == 4


async def test_a_resolver_with_another_secret_is_refused_and_the_client_is_anonymous(
    monolith, make_resolver, caplog
) -> None:
    resolver = make_resolver(monolith.url, secret="not-the-monolith-secret")

    with caplog.at_level(logging.WARNING, logger="strangler.proxy.identity"):
        identity = await resolver.resolve(headers(Authorization="Token alice-token"))

    assert identity is None
    assert "403" in caplog.text
    assert "alice-token" not in caplog.text


async def test_an_unreachable_monolith_makes_the_client_anonymous(make_resolver, caplog) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the resolver calls it
    resolver = make_resolver(f"http://127.0.0.1:{port}")

    with caplog.at_level(logging.WARNING, logger="strangler.proxy.identity"):
        identity = await resolver.resolve(headers(Authorization="Token alice-token"))

    assert identity is None
    assert "could not be reached" in caplog.text
    assert "alice-token" not in caplog.text


async def test_a_monolith_that_does_not_answer_in_time_makes_the_client_anonymous(
    start_upstream, make_resolver, caplog
) -> None:
    release = asyncio.Event()
    monolith = await start_upstream("monolith", held_until(release, {"authenticated": False}))
    resolver = make_resolver(monolith.url, timeout=0.2)
    try:
        with caplog.at_level(logging.WARNING, logger="strangler.proxy.identity"):
            identity = await resolver.resolve(headers(Authorization="Token alice-token"))
    finally:
        release.set()

    assert identity is None
    assert "did not answer" in caplog.text


async def test_an_unreachable_answer_is_not_cached(start_upstream, make_resolver) -> None:
    healthy = asyncio.Event()

    async def recovering(request: web.Request) -> web.StreamResponse:
        if not healthy.is_set():
            return web.Response(status=503)
        return await monolith_endpoint(request)

    monolith = await start_upstream("monolith", recovering)
    resolver = make_resolver(monolith.url)

    assert await resolver.resolve(headers(Authorization="Token alice-token")) is None
    healthy.set()
    identity = await resolver.resolve(headers(Authorization="Token alice-token"))

    assert identity is not None
    assert identity.user_id == "7"


async def test_only_a_signed_force_header_chooses_a_side(make_resolver) -> None:
    resolver = make_resolver("http://127.0.0.1:9")
    signed = sign_force("owner", secret=SECRET, now=time.time())
    other_secret = sign_force("owner", secret="guessed", now=time.time())

    assert resolver.forced_side(headers(X_Strangler_Force=signed)) == "owner"
    assert resolver.forced_side(headers(X_Strangler_Force="owner")) is None
    assert resolver.forced_side(headers(X_Strangler_Force=other_secret)) is None
    assert resolver.forced_side(headers()) is None


async def test_an_empty_secret_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="STRANGLER_IDENTITY_SECRET"):
        MonolithIdentityResolver("http://127.0.0.1:9", "")


async def test_a_service_receives_a_verifiable_identity_for_a_client_with_a_valid_token(
    monolith, start_upstream, start_proxy
) -> None:
    service = await start_upstream("catalog")
    proxy = await start_proxy(
        table_for(monolith, service, {**PRODUCTS, "mode": "service"}), identity_secret=SECRET
    )

    async with proxy.session.get(
        f"{proxy.url}/api/v1/products/", headers={"Authorization": "Token alice-token"}
    ) as response:
        assert response.status == 200

    received = service.seen[0]["headers"]
    assert verified(received["X-Strangler-Identity"]) == Identity("7", "alice", is_staff=False)


async def test_a_forged_identity_header_never_reaches_a_service(
    monolith, start_upstream, start_proxy
) -> None:
    service = await start_upstream("catalog")
    proxy = await start_proxy(
        table_for(monolith, service, {**PRODUCTS, "mode": "service"}), identity_secret=SECRET
    )
    forged = sign_identity(Identity("1", "admin", is_staff=True), secret="guessed", now=time.time())

    async with proxy.session.get(
        f"{proxy.url}/api/v1/products/", headers={"X-Strangler-Identity": forged}
    ) as response:
        assert response.status == 200

    assert "X-Strangler-Identity" not in service.seen[0]["headers"]
    assert resolve_calls(monolith) == []


async def test_a_signed_force_header_sends_a_client_to_the_owner_through_the_proxy(
    monolith, start_upstream, start_proxy
) -> None:
    service = await start_upstream("catalog")
    proxy = await start_proxy(
        table_for(monolith, service, {**PRODUCTS, "mode": "canary", "canary_percent": 0}),
        identity_secret=SECRET,
    )
    url = f"{proxy.url}/api/v1/products/"

    async with proxy.session.get(url, headers={"X-Strangler-Force": "owner"}) as response:
        assert response.status == 200
    assert service.seen == []

    force = sign_force("owner", secret=SECRET, now=time.time())
    async with proxy.session.get(url, headers={"X-Strangler-Force": force}) as response:
        assert response.status == 200
    assert len(service.seen) == 1
    assert "X-Strangler-Force" not in service.seen[0]["headers"]


async def test_the_resolver_follows_a_reload_that_moves_the_monolith(
    monolith, start_upstream, start_proxy
) -> None:
    service = await start_upstream("catalog")
    moved = await start_upstream("monolith-moved", monolith_endpoint)
    table = table_for(monolith, service, {**PRODUCTS, "mode": "service"})
    proxy = await start_proxy(table, identity_secret=SECRET)

    proxy.write_table(
        {**table, "upstreams": {**table["upstreams"], "monolith": {"url": moved.url}}}
    )
    assert (await proxy.reload()).changed
    async with proxy.session.get(
        f"{proxy.url}/api/v1/products/", headers={"Authorization": "Token alice-token"}
    ) as response:
        assert response.status == 200

    assert resolve_calls(monolith) == []
    assert len(resolve_calls(moved)) == 1
    assert verified(service.seen[0]["headers"]["X-Strangler-Identity"]).user_id == "7"
