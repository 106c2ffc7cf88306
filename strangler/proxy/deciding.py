"""Who answers one request: the request's side of ``strangler.proxy.modes.decide``. Each input is
read only where it decides (an identity lookup, a cookie parse and a random draw each cost
a request that does not need them): the resolved user, the canary cohort
(``strangler.proxy.cohort``), the shadow's sampling draw, a verified forced side, a recent write
(``strangler.proxy.read_your_writes``)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from aiohttp import web

from strangler.proxy.cohort import COHORT_COOKIE, cohort_of
from strangler.proxy.identity import Identity, IdentityResolver
from strangler.proxy.modes import Decision, decide
from strangler.proxy.read_your_writes import WROTE_COOKIE, WroteCookies, splits_reads
from strangler.proxy.routing import CompiledRoute

__all__ = ["Decided", "decide_request", "needs_identity"]


# Not frozen: one is made a request, and a frozen dataclass takes four times as long to make
# (measured: 1.0 against 0.28 us); nothing changes one after it is made.
@dataclass(slots=True)
class Decided:
    decision: Decision
    identity: Identity | None = None  # the resolved user, for a service's identity header
    new_cookie: str | None = None  # a new canary cohort, set as a cookie on the answer


def needs_identity(route: CompiledRoute | None) -> bool:
    """Whether the user is resolved for this route: where a service may answer."""
    return route is not None and route.config.mode != "monolith"


def decide_request(
    request: web.BaseRequest,
    route: CompiledRoute | None,
    *,
    user: Identity | None,
    legacy: str,
    identity: IdentityResolver,
    wrote: WroteCookies,
) -> Decided:
    """``user``: resolved by ``identity`` where ``needs_identity`` says so, else ``None``."""
    method = request.method
    if route is None:
        return Decided(decide(None, legacy=legacy, method=method, cohort_key=None, shadow_draw=1.0))
    config = route.config
    cohort = None
    if config.mode == "canary":
        cookie = request.cookies.get(COHORT_COOKIE) if user is None else None
        cohort = cohort_of(user_id=user.user_id if user else None, cookie=cookie)
    shadow_draw = random.random() if config.mode == "shadow" else 1.0  # noqa: S311 - sampling
    wrote_recently = splits_reads(config, method) and wrote.names(
        request.cookies.get(WROTE_COOKIE), writer=config.writer(legacy), now=time.time()
    )
    decision = decide(
        route,
        legacy=legacy,
        method=method,
        cohort_key=cohort.key if cohort else (user.user_id if user else None),
        shadow_draw=shadow_draw,
        force=identity.forced_side(request.headers),
        wrote_recently=wrote_recently,
    )
    return Decided(decision, user, cohort.new_cookie if cohort else None)
