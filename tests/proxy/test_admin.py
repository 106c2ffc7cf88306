"""The admin API against a real in-process proxy and real upstreams."""

from __future__ import annotations

import difflib
import hmac

from aiohttp import web

from tests.proxy.conftest import TOKEN, table_for

PRODUCTS = {"name": "products", "prefix": "/api/v1/products/", "owner": "catalog"}


async def test_reads_and_health_need_no_token(start_upstream, start_admin) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))

    health_status, health = await admin.call("GET", "/healthz", token=None)
    routes_status, routes = await admin.call("GET", "/routes", token=None)

    assert (health_status, health) == (200, {"status": "ok"})
    assert routes_status == 200
    assert routes["legacy"] == "monolith"
    assert routes["routes"][0] == {
        "name": "products",
        "pattern": "/api/v1/products/",
        "kind": "prefix",
        "methods": None,
        "owner": "catalog",
        "mode": "monolith",
        "canary_percent": 0,
        "fallback": False,
        "shadow_sample_rate": 1.0,
        "read_sides": ["monolith"],
        "write_owner": "monolith",
        "unsynced_writes_accepted": False,
        "hold_until": 0,
        "counters": routes["routes"][0]["counters"],
    }


async def test_a_change_without_a_token_is_refused_and_changes_nothing(
    start_upstream, start_admin
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))
    before = admin.proxy.routes_path.read_bytes()

    async with admin.session.patch(
        admin.url("/routes/products"), json={"mode": "service"}
    ) as response:
        body = await response.json()

    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert body["code"] == "missing_token"
    assert admin.proxy.routes_path.read_bytes() == before


async def test_a_wrong_token_is_refused_after_a_constant_time_comparison(
    start_upstream, start_admin, monkeypatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real_compare = hmac.compare_digest

    def recording_compare(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording_compare)
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))

    status, body = await admin.call(
        "PATCH", "/routes/products", {"mode": "service"}, token=TOKEN[:-1] + "X"
    )

    assert (status, body["code"]) == (401, "invalid_token")
    assert compared == [((TOKEN[:-1] + "X").encode(), TOKEN.encode())]
    assert admin.proxy.state.store.current.route("products").config.mode == "monolith"


async def test_with_no_token_configured_every_change_is_refused(
    start_upstream, start_admin
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS), token="")

    patch = await admin.call("PATCH", "/routes/products", {"mode": "service"}, token="anything")
    reload = await admin.call("POST", "/reload", token="anything")

    for status, body in (patch, reload):
        assert status == 403
        assert body["code"] == "admin_token_unset"
        assert "PROXY_ADMIN_TOKEN" in body["message"]


async def test_a_patch_changes_the_routing_of_the_next_request(start_upstream, start_admin) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))
    proxy = admin.proxy
    async with proxy.session.get(f"{proxy.url}/api/v1/products/1/") as before:
        assert before.status == 200

    status, body = await admin.call("PATCH", "/routes/products", {"mode": "service"})
    async with proxy.session.get(f"{proxy.url}/api/v1/products/2/") as after:
        assert after.status == 200

    assert status == 200
    assert body["changed"] is True
    assert body["route"]["mode"] == "service"
    assert [s["path"] for s in monolith.seen] == ["/api/v1/products/1/"]
    assert [s["path"] for s in service.seen] == ["/api/v1/products/2/"]
    assert "mode: service" in proxy.routes_path.read_text()


async def test_an_invalid_change_is_400_naming_entry_and_field_and_changes_nothing(
    start_upstream, start_admin
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))
    before = admin.proxy.routes_path.read_bytes()

    status, body = await admin.call("PATCH", "/routes/products", {"canary_percent": 150})

    assert status == 400
    assert body["code"] == "invalid_change"
    assert "routes[0] (products), field 'canary_percent'" in body["message"]
    assert str(admin.proxy.routes_path) in body["message"]
    assert admin.proxy.routes_path.read_bytes() == before
    assert admin.proxy.state.store.current.route("products").config.canary_percent == 0


async def test_a_change_of_the_wrong_type_or_an_unknown_field_is_a_bad_change(
    start_upstream, start_admin
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))

    wrong_type = await admin.call("PATCH", "/routes/products", {"fallback": "yes"})
    unknown = await admin.call("PATCH", "/routes/products", {"path": "/elsewhere/"})
    empty = await admin.call("PATCH", "/routes/products", {})
    not_an_object = await admin.call("PATCH", "/routes/products", ["mode"])

    assert wrong_type == (400, {"code": "bad_change", "message": wrong_type[1]["message"]})
    assert "'fallback'" in wrong_type[1]["message"]
    assert unknown[0] == 400
    assert "path" in unknown[1]["message"]
    assert empty[0] == 400
    assert empty[1]["code"] == "bad_change"
    assert not_an_object[0] == 400
    assert not_an_object[1]["code"] == "bad_request"


async def test_a_change_to_an_unknown_route_is_404(start_upstream, start_admin) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))

    status, body = await admin.call("PATCH", "/routes/nope", {"mode": "service"})
    read_status, _ = await admin.call("GET", "/routes/nope", token=None)

    assert (status, body["code"]) == (404, "route_not_found")
    assert read_status == 404


COMMENTED_TABLE = """\
# The storefront's route table: owned by the platform team.
version: 1
legacy: monolith   # the monolith answers anything unrouted
upstreams:
  monolith: {{url: "{monolith}"}}
  catalog:
    url: '{service}'
    timeouts: {{connect: 1, read: 5, total: 10}}
routes:
  # Product pages move first.
  - name: products
    prefix: /api/v1/products/      # everything under it
    owner: catalog
    mode: shadow                   # compare before moving

  # Categories stay for now.
  - name: categories
    prefix: /api/v1/categories/
    owner: catalog
"""


async def test_a_patch_keeps_the_comments_and_layout_of_the_rest_of_the_file(
    start_upstream, start_admin
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))
    before = COMMENTED_TABLE.format(monolith=monolith.url, service=service.url)
    admin.proxy.routes_path.write_text(before)
    assert (await admin.proxy.reload()).changed

    status, _ = await admin.call(
        "PATCH", "/routes/products", {"mode": "canary", "canary_percent": 5, "fallback": True}
    )

    after = admin.proxy.routes_path.read_text()
    changes = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="")
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert status == 200
    assert changes == [
        "-    mode: shadow                   # compare before moving",
        "+    mode: canary                   # compare before moving",
        "+    canary_percent: 5",
        "+    fallback: true",
    ]
    assert after.endswith("\n\n  # Categories stay for now.\n  - name: categories\n"
                          "    prefix: /api/v1/categories/\n    owner: catalog\n")  # fmt: skip
    # No staged copy left behind; the change is in the audit trail beside the table.
    assert sorted(p.name for p in admin.proxy.routes_path.parent.iterdir()) == [
        admin.proxy.routes_path.name, f"{admin.proxy.routes_path.name}.audit.jsonl"
    ]  # fmt: skip


async def test_a_canary_only_ramps_up_unless_forced(start_upstream, start_admin) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(
        table_for(monolith, service, {**PRODUCTS, "mode": "canary", "canary_percent": 50})
    )

    up = await admin.call("PATCH", "/routes/products", {"canary_percent": 60})
    down = await admin.call("PATCH", "/routes/products", {"canary_percent": 20})
    forced = await admin.call("PATCH", "/routes/products", {"canary_percent": 20, "force": True})

    assert up[0] == 200
    assert up[1]["route"]["canary_percent"] == 60
    assert down[0] == 409
    assert down[1]["code"] == "canary_ramp_down"
    assert "force" in down[1]["message"]
    assert forced[0] == 200
    assert forced[1]["route"]["canary_percent"] == 20
    assert admin.proxy.state.store.current.route("products").config.canary_percent == 20


async def test_post_reload_rereads_the_file_and_keeps_serving_on_an_invalid_one(
    start_upstream, start_admin
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))

    admin.proxy.write_table(table_for(monolith, service, {**PRODUCTS, "mode": "service"}))
    good = await admin.call("POST", "/reload")
    admin.proxy.routes_path.write_text("routes: [{name: products}]\n")
    bad = await admin.call("POST", "/reload")

    assert good == (200, {"changed": True, "routes": 1})
    assert bad[0] == 400
    assert bad[1]["code"] == "invalid_table"
    assert "keeps serving" in bad[1]["message"]
    assert admin.proxy.state.store.current.route("products").config.mode == "service"


async def test_routes_show_live_counters_per_route(start_upstream, start_admin) -> None:
    async def broken(request: web.Request) -> web.Response:
        if request.path.startswith("/admin-counted-fallback/"):
            return web.Response(status=503)
        return web.json_response({"path": request.path_qs})

    monolith, service = await start_upstream("monolith"), await start_upstream("catalog", broken)
    shadowed = {"name": "admin-counted-shadow", "prefix": "/admin-counted-shadow/",
                "owner": "catalog", "mode": "shadow"}  # fmt: skip
    fell_back = {"name": "admin-counted-fallback", "prefix": "/admin-counted-fallback/",
                 "owner": "catalog", "mode": "service", "fallback": True}  # fmt: skip
    admin = await start_admin(table_for(monolith, service, shadowed, fell_back))
    proxy = admin.proxy
    for path in ("/admin-counted-shadow/1", "/admin-counted-shadow/2", "/admin-counted-fallback/"):
        async with proxy.session.get(f"{proxy.url}{path}") as response:
            assert response.status == 200
    await proxy.state.shadow.drain()

    _, body = await admin.call("GET", "/routes", token=None)

    counters = {route["name"]: route["counters"] for route in body["routes"]}
    shadow_counts = counters["admin-counted-shadow"]
    fallback_counts = counters["admin-counted-fallback"]
    assert shadow_counts["requests"]["total"] == shadow_counts["requests"]["2xx"] == 2
    assert shadow_counts["shadow"]["match"] == 2
    assert shadow_counts["shadow"]["mismatch"] == 0
    assert fallback_counts["requests"]["2xx"] == 1
    assert fallback_counts["fallbacks"] == 1


async def test_metrics_expose_the_request_counter(start_upstream, start_admin) -> None:
    monolith = await start_upstream("monolith")
    admin = await start_admin(table_for(monolith))
    async with admin.proxy.session.get(f"{admin.proxy.url}/cart/"):
        pass

    async with admin.session.get(admin.url("/metrics")) as response:
        text = await response.text()

    assert response.status == 200
    assert response.content_type == "text/plain"
    assert "strangler_proxy_requests_total{" in text


async def test_an_unknown_admin_path_is_a_json_404(start_upstream, start_admin) -> None:
    monolith = await start_upstream("monolith")
    admin = await start_admin(table_for(monolith))

    status, body = await admin.call("GET", "/nowhere", token=None)

    assert (status, body["code"]) == (404, "not_found")
