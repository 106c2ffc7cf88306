"""What one proxy process holds for its requests, kept in the public application's state
(``app[STATE]``) from its start to its cleanup (``strangler.proxy.app.build_app``)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from strangler.proxy.capture import RequestCapture
from strangler.proxy.fleet_member import FleetMember
from strangler.proxy.headers import TrustedProxies
from strangler.proxy.health import HealthChecker
from strangler.proxy.identity import IdentityResolver
from strangler.proxy.read_your_writes import WroteCookies
from strangler.proxy.settings import ProxySettings
from strangler.proxy.shadow import ShadowDispatcher
from strangler.proxy.table_store import TableStore

__all__ = ["STATE", "ProxyState"]


@dataclass
class ProxyState:
    settings: ProxySettings
    store: TableStore
    trusted: TrustedProxies
    identity: IdentityResolver
    shadow: ShadowDispatcher
    health: HealthChecker
    capture: RequestCapture
    wrote: WroteCookies
    # This worker's link to the shared control store (STRANGLER_STORE_URL); None: the file.
    fleet: FleetMember | None = None


STATE = web.AppKey("proxy_state", ProxyState)
