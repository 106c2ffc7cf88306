"""The identity resolver against a real in-process stand-in for the monolith's endpoint,
and identity through the whole proxy."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from proxy.identity import RESOLVE_PATH, MonolithIdentityResolver, NoIdentity
from strangler.identity import Identity, sign_force, sign_identity, verify_identity
from tests.proxy.conftest import Upstream, table_for

SECRET = "proxy-test-identity-secret"
PRODUCTS = {"name": "products", "prefix": "/api/v1/products/", "owner": "catalog"}
ALICE = {"user_id": "7", "username": "alice", "is_staff": False}
STELLA = {"user_id": "9", "username": "stella", "is_staff": True}
EVE = {
    "user_id": "8",
    "username": "eve",
    "is_staff": True,
    "is_superuser": False,
    "permissions": ["catalog.change_product", "catalog.view_product"],
    "groups": ["editors"],
}
TOKENS = {"alice-token": ALICE, "eve-token": EVE}
SESSIONS = {"stella-session": STELLA}
# Whole Authorization headers of schemes other than Token, as the monolith's resolvers read them.
HEADERS = {"Bearer alice-jwt": ALICE, "Custom stella-key": STELLA}


def _refuse(code: str) -> web.Response:
    return web.json_response({"code": code, "message": "refused"}, status=403)


async def monolith_endpoint(request: web.Request) -> web.StreamResponse:
    """The monolith's contract, checked independently of the code under test."""
    if request.path != RESOLVE_PATH:
        return web.json_response({"path": request.path_qs})
    body = await request.read()
    timestamp = request.headers.get("X-Strangler-Timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 30:
        return _refuse("stale_timestamp")
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    if not hmac.compare_digest(
        request.headers.get("X-Strangler-Internal-Auth", ""), expected.hexdigest()
    ):
        return _refuse("bad_signature")
    asked = json.loads(body)
    if asked.get("authorization") is not None:
        user = HEADERS.get(asked["authorization"])
    elif asked["token"] is not None:
        user = TOKENS.get(asked["token"])
    else:
        user = SESSIONS.get(asked["session_id"])
    if user is None:
        return web.json_response(
            {"authenticated": False, "user_id": None, "username": None, "is_staff": False}
        )
    return web.json_response({"authenticated": True, **user})


def resolve_calls(monolith: Upstream) -> list[dict[str, Any]]:
    return [seen for seen in monolith.seen if seen["path"] == RESOLVE_PATH]


def headers(**values: str) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict({k.replace("_", "-"): v for k, v in values.items()}))


def verified(value: str) -> Identity:
    return verify_identity(value, secret=SECRET, now=time.time(), leeway=0)


@pytest.fixture
async def make_resolver() -> AsyncIterator[Callable[..., MonolithIdentityResolver]]:
    made: list[MonolithIdentityResolver] = []

    def make(base_url: str, **options: Any) -> MonolithIdentityResolver:
        options.setdefault("secret", SECRET)
        resolver = MonolithIdentityResolver(base_url, **options)
        made.append(resolver)
        return resolver

    yield make
    for resolver in made:
        await resolver.close()


@pytest.fixture
async def monolith(start_upstream: Callable[..., Awaitable[Upstream]]) -> Upstream:
    return await start_upstream("monolith", monolith_endpoint)


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

    with caplog.at_level(logging.WARNING, logger="proxy.identity"):
        identity = await resolver.resolve(headers(Authorization="Token alice-token"))

    assert identity is None
    assert "403" in caplog.text
    assert "alice-token" not in caplog.text


async def test_an_unreachable_monolith_makes_the_client_anonymous(make_resolver, caplog) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the resolver calls it
    resolver = make_resolver(f"http://127.0.0.1:{port}")

    with caplog.at_level(logging.WARNING, logger="proxy.identity"):
        identity = await resolver.resolve(headers(Authorization="Token alice-token"))

    assert identity is None
    assert "could not be reached" in caplog.text
    assert "alice-token" not in caplog.text


async def test_a_monolith_that_does_not_answer_in_time_makes_the_client_anonymous(
    start_upstream, make_resolver, caplog
) -> None:
    release = asyncio.Event()

    async def stuck(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"authenticated": False})

    monolith = await start_upstream("monolith", stuck)
    resolver = make_resolver(monolith.url, timeout=0.2)
    try:
        with caplog.at_level(logging.WARNING, logger="proxy.identity"):
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


async def test_a_bearer_token_goes_to_the_monolith_when_its_scheme_is_forwarded(
    monolith, make_resolver
) -> None:
    resolver = make_resolver(monolith.url, schemes=["Token", "Bearer"])

    identity = await resolver.resolve(headers(Authorization="Bearer alice-jwt"))

    assert identity is not None
    assert verified(identity.header_value) == Identity("7", "alice", is_staff=False)
    assert json.loads(resolve_calls(monolith)[0]["body"]) == {
        "session_id": None,
        "token": None,
        "authorization": "Bearer alice-jwt",
    }


async def test_any_scheme_goes_with_a_star_and_a_drf_token_still_as_its_key(
    monolith, make_resolver
) -> None:
    resolver = make_resolver(monolith.url, schemes=["*"])

    custom = await resolver.resolve(headers(Authorization="Custom stella-key"))
    token = await resolver.resolve(headers(Authorization="token alice-token"))

    assert custom is not None
    assert custom.user_id == "9"
    assert token is not None
    assert token.user_id == "7"
    assert json.loads(resolve_calls(monolith)[1]["body"]) == {
        "session_id": None,
        "token": "alice-token",
    }


async def test_a_scheme_not_forwarded_leaves_the_session_to_decide(monolith, make_resolver) -> None:
    resolver = make_resolver(monolith.url)

    identity = await resolver.resolve(
        headers(Authorization="Bearer alice-jwt", Cookie="sessionid=stella-session")
    )

    assert identity is not None
    assert identity.user_id == "9"
    assert json.loads(resolve_calls(monolith)[0]["body"]) == {
        "session_id": "stella-session",
        "token": None,
    }


async def test_the_cache_key_is_what_was_forwarded_and_nothing_else(
    monolith, make_resolver
) -> None:
    resolver = make_resolver(monolith.url, schemes=["Bearer"])
    session = "sessionid=stella-session"

    await resolver.resolve(headers(Cookie=session, Authorization="Token one"))
    await resolver.resolve(headers(Cookie=session, Authorization="Token two"))
    assert len(resolve_calls(monolith)) == 1  # Token is not forwarded here: same question

    await resolver.resolve(headers(Cookie=session, Authorization="Bearer alice-jwt"))
    await resolver.resolve(headers(Cookie=session, Authorization="Bearer other-jwt"))
    assert len(resolve_calls(monolith)) == 3


async def test_permissions_and_groups_from_the_monolith_reach_the_service_signed(
    monolith, make_resolver
) -> None:
    resolver = make_resolver(monolith.url)

    identity = await resolver.resolve(headers(Authorization="Token eve-token"))

    assert identity is not None
    assert verified(identity.header_value) == Identity(
        "8",
        "eve",
        is_staff=True,
        permissions=frozenset({"catalog.change_product", "catalog.view_product"}),
        groups=frozenset({"editors"}),
    )


async def test_more_permissions_than_an_assertion_carries_are_cut_to_fit(
    start_upstream, make_resolver
) -> None:
    many = [f"app.permission_number_{i:04d}" for i in range(1000)]

    async def generous(request: web.Request) -> web.Response:
        return web.json_response(
            {**ALICE, "authenticated": True, "permissions": many, "is_superuser": True}
        )

    monolith = await start_upstream("monolith", generous)
    resolver = make_resolver(monolith.url)

    identity = await resolver.resolve(headers(Authorization="Token alice-token"))

    assert identity is not None
    asserted = verified(identity.header_value)
    assert asserted.is_superuser is True
    assert 0 < len(asserted.permissions) < len(many)
    assert sorted(asserted.permissions) == many[: len(asserted.permissions)]


@pytest.mark.parametrize(
    "claims",
    [{"permissions": "catalog.view_product"}, {"groups": [1, 2]}, {"permissions": None}],
)
async def test_an_answer_with_unusable_claims_is_anonymous_and_not_cached(
    start_upstream, make_resolver, caplog, claims
) -> None:
    async def odd(request: web.Request) -> web.Response:
        return web.json_response({**ALICE, "authenticated": True, **claims})

    monolith = await start_upstream("monolith", odd)
    resolver = make_resolver(monolith.url)

    with caplog.at_level(logging.WARNING, logger="proxy.identity"):
        for _ in range(2):
            assert await resolver.resolve(headers(Authorization="Token alice-token")) is None

    assert "unusable" in caplog.text
    assert len(monolith.seen) == 2


async def test_unless_configured_passes_the_cookie_name_and_the_schemes_on(monolith) -> None:
    resolver = NoIdentity.unless_configured(
        SECRET, monolith_url=monolith.url, session_cookie_name="shop_session", schemes=["Bearer"]
    )
    try:
        by_cookie = await resolver.resolve(headers(Cookie="shop_session=stella-session"))
        by_bearer = await resolver.resolve(headers(Authorization="Bearer alice-jwt"))
    finally:
        await resolver.close()

    assert by_cookie is not None
    assert by_cookie.user_id == "9"
    assert by_bearer is not None
    assert by_bearer.user_id == "7"
