"""A shadowed request's job, built from the request the client was answered: pure."""

from __future__ import annotations

from typing import Any

from multidict import CIMultiDict

from strangler.proxy.config import UpstreamConfig, parse_table_config
from strangler.proxy.outgoing_headers import OutgoingHeaders
from strangler.proxy.routing import CompiledRoute, RouteTable
from strangler.proxy.shadow_job import CapturedResponse, ShadowJob, shadow_job

MONOLITH = UpstreamConfig(url="http://monolith:8100", timeouts={"total": 20})
CATALOG = UpstreamConfig(url="http://catalog:8200", timeouts={"total": 7})
PRIMARY = CapturedResponse(200, CIMultiDict(), b"{}")


def route(**shadow: Any) -> CompiledRoute:
    config = {
        "upstreams": {"monolith": {"url": MONOLITH.url}, "catalog": {"url": CATALOG.url}},
        "routes": [
            {"name": "r", "prefix": "/p/", "owner": "catalog", "mode": "shadow", "shadow": shadow}
        ],
    }
    found = RouteTable(parse_table_config(config, source="t")).route("r")
    assert found is not None
    return found


def job(method: str = "GET", draw: float = 0.5, **shadow: Any) -> ShadowJob:
    headers = OutgoingHeaders(
        [(b"Cookie", b"sessionid=s; csrftoken=c"), (b"Accept", b"*/*")],
        identity="signed",
        service_cookies=frozenset({b"csrftoken"}),
    )
    return shadow_job(
        route=route(**shadow),
        method=method,
        target="/p/1?x=1",
        headers=headers,
        body=b"body",
        primary=PRIMARY,
        primary_seconds=0.25,
        owner=CATALOG,
        legacy=MONOLITH,
        rules="{}",
        noise_draw=draw,
    )


def test_the_service_gets_its_copy_without_the_monolith_credentials_and_with_the_identity() -> None:
    built = job()

    assert (built.route, built.base_url, built.timeout) == ("r", CATALOG.url, 7)
    assert (built.method, built.target, built.body) == ("GET", "/p/1?x=1", b"body")
    assert built.headers == [
        (b"Cookie", b"csrftoken=c"),
        (b"Accept", b"*/*"),
        (b"X-Strangler-Identity", b"signed"),
    ]
    assert (built.legacy_url, built.legacy_timeout) == (MONOLITH.url, 20)
    assert built.legacy_headers == [(b"Cookie", b"sessionid=s; csrftoken=c"), (b"Accept", b"*/*")]
    assert (built.primary, built.primary_seconds, built.rules) == (PRIMARY, 0.25, "{}")


def test_a_safe_request_drawn_under_the_noise_rate_asks_the_monolith_twice() -> None:
    assert job(draw=0.05, noise_sample_rate=0.1).repeat_base
    assert not job(draw=0.15, noise_sample_rate=0.1).repeat_base


def test_the_service_is_asked_twice_only_with_candidate_twice() -> None:
    assert not job(draw=0.0, noise_sample_rate=1).repeat_candidate
    assert job(draw=0.0, noise_sample_rate=1, candidate_twice=True).repeat_candidate


def test_a_write_is_never_repeated() -> None:
    built = job("POST", draw=0.0, noise_sample_rate=1, candidate_twice=True)

    assert (built.repeat_base, built.repeat_candidate) == (False, False)
