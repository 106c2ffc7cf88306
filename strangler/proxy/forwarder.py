"""One request through one decision: sent to its primary through the upstream's circuit
breaker, answered by the fallback where the decision allows, the answer's headers made
fit for the client. The table and upstreams are those the request arrived with: it keeps
them to its end, whatever reloads happen meanwhile."""

from __future__ import annotations

import time
from collections.abc import Mapping

from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from strangler.proxy import metrics
from strangler.proxy.errors import CircuitOpen, UpstreamError, UpstreamUnreachable
from strangler.proxy.headers import response_headers
from strangler.proxy.health import HealthChecker
from strangler.proxy.modes import Decision
from strangler.proxy.outgoing_headers import OutgoingHeaders
from strangler.proxy.rewrite import rewrite_location, rewrite_set_cookie
from strangler.proxy.routing import RouteTable
from strangler.proxy.upstream_client import Body
from strangler.proxy.upstream_response import UpstreamResponse
from strangler.proxy.upstreams import Upstream
from strangler.request_ids import REQUEST_ID_HEADER

__all__ = ["Forwarder"]


class Forwarder:
    def __init__(
        self,
        request: web.BaseRequest,
        request_id: str,
        table: RouteTable,
        upstreams: Mapping[str, Upstream],
        health: HealthChecker,
    ) -> None:
        self.request = request
        self.request_id = request_id
        self.table = table
        self.upstreams = upstreams
        self.health = health
        self.upstream_seconds = 0.0  # waiting on upstreams, for the latency the proxy adds
        self.fell_back = False

    async def forward(
        self,
        decision: Decision,
        target: str,
        headers: OutgoingHeaders,
        primary_headers: list[tuple[bytes, bytes]],
        body: Body,
        *,
        replayable: bool,
    ) -> tuple[Upstream, UpstreamResponse]:
        """The upstream that answers and its answer: the primary's, or, where the decision
        has a fallback and ``body`` can be sent again, the fallback's when the primary fails
        (unhealthy, unreachable, circuit open, timed out, 5xx)."""
        primary = self.upstreams[decision.primary]
        fallback = decision.fallback if replayable else None
        try:
            if decision.fallback and self.health.is_unhealthy(primary.name):
                raise UpstreamError(
                    f"{primary.name} fails its health check.", code="upstream_unhealthy"
                )
            response = await self.send(primary, target, primary_headers, body)
            if response.status >= 500 and fallback is not None:
                response.release()
                raise UpstreamError(f"{primary.name} answered {response.status}.")
        except UpstreamError:
            if fallback is None:
                raise
            self.fell_back = True
            metrics.FALLBACKS.labels(decision.route_name).inc()
            answering = self.upstreams[fallback]
            return answering, await self.send(answering, target, headers.legacy, body)
        return primary, response

    async def send(
        self, upstream: Upstream, target: str, headers: list[tuple[bytes, bytes]], body: Body
    ) -> UpstreamResponse:
        """One exchange with ``upstream``, recorded by its breaker; :class:`CircuitOpen`
        without trying when the breaker refuses."""
        if not upstream.breaker.allow():
            metrics.UPSTREAM_ERRORS.labels(upstream.name, CircuitOpen.kind).inc()
            raise CircuitOpen(f"{upstream.name} is failing; its circuit is open.")
        endpoint = upstream.only
        if endpoint is None:
            return await self._send_balanced(upstream, target, headers, body)
        started = time.perf_counter()
        try:
            response = await endpoint.client.request(self.request.method, target, headers, body)
        except UpstreamError as exc:
            upstream.breaker.record_failure()
            metrics.UPSTREAM_ERRORS.labels(upstream.name, exc.kind).inc()
            raise
        finally:
            self.upstream_seconds += time.perf_counter() - started
        if response.status >= 500:
            upstream.breaker.record_failure()
            metrics.UPSTREAM_ERRORS.labels(upstream.name, "status_5xx").inc()
        else:
            upstream.breaker.record_success()
        return response

    async def _send_balanced(
        self, upstream: Upstream, target: str, headers: list[tuple[bytes, bytes]], body: Body
    ) -> UpstreamResponse:
        """``send`` to one of several endpoints (``strangler.proxy.endpoints``), each outcome
        counted for its ejection. A connection refused by one endpoint goes to another once:
        nothing was sent yet, so any request may."""
        endpoints = upstream.endpoints
        started = time.perf_counter()
        endpoint = endpoints.pick() or await upstream.endpoint()
        try:
            try:
                response = await endpoint.client.request(self.request.method, target, headers, body)
            except UpstreamUnreachable as exc:
                other = endpoints.pick(avoid=endpoint)
                if other is None or other is endpoint:
                    raise
                endpoints.failed(endpoint)
                metrics.UPSTREAM_ERRORS.labels(upstream.name, exc.kind).inc()
                endpoint = other
                response = await endpoint.client.request(self.request.method, target, headers, body)
        except UpstreamError as exc:
            endpoints.failed(endpoint)
            upstream.breaker.record_failure()
            metrics.UPSTREAM_ERRORS.labels(upstream.name, exc.kind).inc()
            raise
        finally:
            self.upstream_seconds += time.perf_counter() - started
        if response.status >= 500:
            endpoints.failed(endpoint)
            upstream.breaker.record_failure()
            metrics.UPSTREAM_ERRORS.labels(upstream.name, "status_5xx").inc()
        else:
            endpoints.succeeded(endpoint)
            upstream.breaker.record_success()
        return response

    def response_headers(self, upstream_response: UpstreamResponse) -> CIMultiDict[str]:
        """The answer's headers for the client: filtered (``strangler.proxy.headers``), links and
        cookies that name an upstream rewritten to the proxy, our request id."""
        headers = response_headers(upstream_response.raw_headers)
        if "Location" in headers:
            public = f"{self.request.scheme}://{self.request.host}"
            headers["Location"] = rewrite_location(
                headers["Location"], upstream_bases=self._upstream_bases(), public_base=public
            )
        if "Set-Cookie" in headers:
            hosts = [URL(base).host or "" for base in self._upstream_bases()]
            cookies = [
                rewrite_set_cookie(v, internal_hosts=hosts) for v in headers.getall("Set-Cookie")
            ]
            del headers["Set-Cookie"]
            for cookie in cookies:
                headers.add("Set-Cookie", cookie)
        headers[REQUEST_ID_HEADER] = self.request_id
        return headers

    def _upstream_bases(self) -> list[str]:
        return [e.base_url for u in self.upstreams.values() for e in u.endpoints.all]
