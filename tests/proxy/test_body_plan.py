"""What the proxy may do with a request's body, by its route: a pure plan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from strangler.proxy.body_plan import plan_body
from strangler.proxy.config import parse_table_config
from strangler.proxy.routing import CompiledRoute, RouteTable

BUFFER = 1024


def route(**fields: Any) -> CompiledRoute:
    config = {
        "upstreams": {"monolith": {"url": "http://m"}, "catalog": {"url": "http://c"}},
        "routes": [{"name": "r", "prefix": "/p/", "owner": "catalog", **fields}],
    }
    found = RouteTable(parse_table_config(config, source="t")).route("r")
    assert found is not None
    return found


async def streamed() -> AsyncIterator[bytes]:
    yield b"x"


def test_a_body_is_buffered_up_to_the_proxys_buffer_and_streams_only_where_the_route_says() -> None:
    plain, uploads = (
        plan_body(route(), buffer_bytes=BUFFER),
        plan_body(route(stream_request_body=True), buffer_bytes=BUFFER),
    )

    assert (plain.limit, plain.may_stream) == (BUFFER, False)
    assert (uploads.limit, uploads.may_stream) == (BUFFER, True)


def test_a_request_no_route_matched_never_streams_and_is_never_shadowed() -> None:
    plan = plan_body(None, buffer_bytes=BUFFER)

    assert not plan.may_stream
    assert not plan.shadowable(b"x")


def test_no_body_or_a_whole_one_may_be_sent_again_and_a_streamed_one_may_not() -> None:
    plan = plan_body(route(), buffer_bytes=BUFFER)

    assert plan.replayable(None)
    assert plan.replayable(b"")
    assert plan.replayable(b"x" * BUFFER)
    assert not plan.replayable(streamed())


def test_a_shadow_gets_a_body_up_to_the_routes_shadow_limit_and_never_a_streamed_one() -> None:
    plan = plan_body(route(shadow={"max_body_bytes": 10}), buffer_bytes=BUFFER)

    assert plan.shadowable(None)
    assert plan.shadowable(b"x" * 10)
    assert not plan.shadowable(b"x" * 11)
    assert not plan.shadowable(streamed())
