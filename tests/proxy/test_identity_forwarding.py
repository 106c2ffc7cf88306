"""What goes to the monolith beyond a session and a DRF token (the ``Authorization``
schemes a resolver forwards), and the permission and group claims that come back."""

# The stand-in's fixtures are imported, and the tests take them by name.
# ruff: noqa: F811

from __future__ import annotations

import json
import logging

import pytest
from aiohttp import web

from strangler.identity import Identity
from strangler.proxy.identity import NoIdentity
from tests.proxy.identity_stand_in import (  # noqa: F401 - fixtures among them
    ALICE,
    SECRET,
    headers,
    make_resolver,
    monolith,
    resolve_calls,
    verified,
)


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

    with caplog.at_level(logging.WARNING, logger="strangler.proxy.identity"):
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
