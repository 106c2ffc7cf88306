"""Who answers a request, by the route's mode and its write owner: pure, no sockets.

Writes first: an unsafe request (POST, PUT, PATCH, DELETE) goes to the route's write owner
(``write_owner``, the legacy upstream until the plan's cutover) in every mode, cohort and
forced side, with no fallback: a write answered by a side that does not own the data is a
write the sync will drop or overwrite. The modes move reads only:

- ``monolith``: the legacy upstream answers.
- ``shadow``: the legacy answers; the owner gets a copy to compare (safe methods only, unless
  the route allows unsafe ones and the owner is a sandbox), sampled at the route's rate.
- ``canary``: the owner answers for ``canary_percent`` of cohort keys, the legacy for the
  rest; sticky and monotonic (``strangler.proxy.cohort``).
- ``service``: the owner answers.

With ``fallback``, a safe request the owner fails is answered by the legacy. A reader who
has just written (``wrote_recently``: the proxy's signed cookie) reads from the write owner
until the sync has had time to carry the write to the other side.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

from strangler.proxy.cohort import in_canary
from strangler.proxy.route_config import SAFE_METHODS
from strangler.proxy.routing import CompiledRoute

__all__ = ["Decision", "Side", "decide"]

Side = Literal["legacy", "owner"]


@dataclass(frozen=True)
class Decision:
    route: CompiledRoute | None
    primary: str
    shadow: str | None = None
    fallback: str | None = None
    cohort: Side | None = None

    @property
    def route_name(self) -> str:
        return self.route.name if self.route else "(default)"

    @property
    def mode(self) -> str:
        return self.route.config.mode if self.route else "monolith"


@functools.lru_cache(maxsize=16)
def _legacy_decision(legacy: str) -> Decision:
    """Most requests match no route; their decision never changes (and is immutable)."""
    return Decision(route=None, primary=legacy)


def decide(
    route: CompiledRoute | None,
    *,
    legacy: str,
    method: str,
    cohort_key: str | None,
    shadow_draw: float,
    force: Side | None = None,
    wrote_recently: bool = False,
) -> Decision:
    """``shadow_draw`` is a uniform number in [0, 1) drawn by the caller (pure here);
    ``force`` comes only from a verified internal override header; ``wrote_recently`` from
    the proxy's own signed cookie, naming this route's write owner."""
    if route is None:
        return _legacy_decision(legacy)
    config = route.config
    owner = config.owner
    writer = config.writer(legacy)
    if method not in SAFE_METHODS:
        sampled = shadow_draw < config.shadow.sample_rate
        shadowed = config.mode == "shadow" and config.shadow.unsafe_methods and sampled
        return Decision(route, primary=writer, shadow=owner if shadowed else None)
    if force is not None:
        return Decision(route, primary=owner if force == "owner" else legacy, cohort=force)
    if config.mode == "monolith":
        return Decision(route, primary=legacy)
    if config.mode == "shadow":
        sampled = shadow_draw < config.shadow.sample_rate
        return Decision(route, primary=legacy, shadow=owner if sampled else None)
    fallback = legacy if config.fallback else None
    if wrote_recently:
        return Decision(route, primary=writer, fallback=fallback if writer != legacy else None)
    if config.mode == "service":
        return Decision(route, primary=owner, fallback=fallback)
    if in_canary(owner=owner, key=cohort_key, percent=config.canary_percent):
        return Decision(route, primary=owner, fallback=fallback, cohort="owner")
    return Decision(route, primary=legacy, cohort="legacy")
