"""One shadowed request as the shadow workers take it (``strangler.proxy.shadow``), and how it is
built from the request the client got its answer to: pure, no sockets."""

from __future__ import annotations

from dataclasses import dataclass

from multidict import CIMultiDict

from strangler.proxy.config import UpstreamConfig
from strangler.proxy.endpoints import Endpoint
from strangler.proxy.outgoing_headers import OutgoingHeaders
from strangler.proxy.route_config import SAFE_METHODS
from strangler.proxy.routing import CompiledRoute

__all__ = ["SHADOW_TIMEOUT_SECONDS", "WANT_VERSIONS", "CapturedResponse", "ShadowJob", "shadow_job"]

# A shadow answer slower than this is counted as an error, not waited for.
SHADOW_TIMEOUT_SECONDS = 10.0
# Asks a service (strangler.sync.freshness) for the versions of the rows it answered with.
WANT_VERSIONS = (b"X-Strangler-Want-Versions", b"1")


@dataclass(frozen=True)
class CapturedResponse:
    status: int
    headers: CIMultiDict[str]
    body: bytes


@dataclass(frozen=True)
class ShadowJob:
    route: str
    base_url: str  # the service's (the endpoint the balancer picked)
    timeout: float
    method: str
    target: str
    headers: list[tuple[bytes, bytes]]  # as they go to the service (proxy.headers)
    body: bytes | None
    primary: CapturedResponse | None  # None: ask the monolith again first (a retry)
    rules: str = ""  # proxy.comparing.rules_text of the table in force
    legacy_url: str = ""
    legacy_timeout: float = SHADOW_TIMEOUT_SECONDS
    primary_seconds: float | None = None
    repeat_base: bool = False
    repeat_candidate: bool = False
    attempt: int = 0
    # As they go to the monolith when it is asked again: with the client's credentials,
    # which the service's copy goes without (proxy.credentials). None: ``headers``.
    legacy_headers: list[tuple[bytes, bytes]] | None = None
    # The names TLS certificates are checked against, for endpoints found by DNS discovery.
    server_hostname: str | None = None
    legacy_server_hostname: str | None = None


def shadow_job(
    *,
    route: CompiledRoute,
    method: str,
    target: str,
    headers: OutgoingHeaders,
    body: bytes | None,
    primary: CapturedResponse,
    primary_seconds: float,
    owner: UpstreamConfig,
    legacy: UpstreamConfig,
    rules: str,
    noise_draw: float,
    owner_endpoint: Endpoint | None = None,
    legacy_endpoint: Endpoint | None = None,
) -> ShadowJob:
    """The job for a request the monolith (``primary``) answered; ``noise_draw``, uniform in
    [0, 1), samples the safe requests on which the monolith is asked a second time (and the
    service too, with ``candidate_twice``): what differs between two answers of one side
    is noise. ``owner_endpoint``, ``legacy_endpoint``: where the copies go, as the balancer
    picked them; the configs' ``url`` when not given."""
    config = route.config.shadow
    repeat = method in SAFE_METHODS and noise_draw < config.noise_sample_rate
    return ShadowJob(
        route=route.name,
        base_url=owner_endpoint.base_url if owner_endpoint else _url(owner),
        timeout=owner.timeouts.total,
        method=method,
        target=target,
        headers=headers.service,
        body=body,
        primary=primary,
        rules=rules,
        legacy_url=legacy_endpoint.base_url if legacy_endpoint else _url(legacy),
        legacy_timeout=legacy.timeouts.total,
        primary_seconds=primary_seconds,
        repeat_base=repeat,
        repeat_candidate=repeat and config.candidate_twice,
        legacy_headers=headers.legacy,
        server_hostname=owner_endpoint.server_hostname if owner_endpoint else None,
        legacy_server_hostname=legacy_endpoint.server_hostname if legacy_endpoint else None,
    )


def _url(upstream: UpstreamConfig) -> str:
    assert upstream.url is not None, "an upstream of many endpoints: pass the one picked"
    return upstream.url
