"""An in-process stand-in for the monolith's identity endpoint, and what the tests of
``strangler.proxy.identity`` do with it (tests/proxy/test_identity*.py import the fixtures)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from strangler.identity import Identity, verify_identity
from strangler.proxy.identity import RESOLVE_PATH, MonolithIdentityResolver
from tests.proxy.conftest import Upstream

SECRET = "proxy-test-identity-secret"
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
