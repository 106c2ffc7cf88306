"""The admin API on its own port: health, the route table, metrics (changes land later)."""

from __future__ import annotations

import os

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from proxy.app import STATE
from proxy.settings import ProxySettings

__all__ = ["build_admin_app"]

PUBLIC_APP = web.AppKey("public_app", web.Application)


async def _metrics(request: web.Request) -> web.Response:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _routes(request: web.Request) -> web.Response:
    state = request.app[PUBLIC_APP][STATE]
    table = state.store.current
    return web.json_response(
        {
            "legacy": table.legacy,
            "routes": [
                {
                    "name": r.name,
                    "pattern": r.pattern,
                    "kind": r.kind,
                    "methods": sorted(r.methods) if r.methods else None,
                    "owner": r.config.owner,
                    "mode": r.config.mode,
                    "canary_percent": r.config.canary_percent,
                    "fallback": r.config.fallback,
                }
                for r in table.routes
            ],
            "shadow": {k: v for k, v in vars(state.shadow.stats).items() if k != "per_route"},
        }
    )


def build_admin_app(settings: ProxySettings, public: web.Application) -> web.Application:
    app = web.Application()
    app[PUBLIC_APP] = public
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/routes", _routes)
    return app
