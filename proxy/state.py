"""What one proxy process holds for its requests, kept in the public application's state
(``app[STATE]``) from its start to its cleanup (``proxy.app.build_app``)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from proxy.capture import RequestCapture
from proxy.headers import TrustedProxies
from proxy.health import HealthChecker
from proxy.identity import IdentityResolver
from proxy.read_your_writes import WroteCookies
from proxy.settings import ProxySettings
from proxy.shadow import ShadowDispatcher
from proxy.table_store import TableStore

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


STATE = web.AppKey("proxy_state", ProxyState)
