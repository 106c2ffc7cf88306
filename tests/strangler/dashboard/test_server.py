"""The dashboard's server, as a browser and a script meet it: the JSON and the event stream,
who sees what, the headers that keep the page safe."""

from __future__ import annotations

import gzip
import json
import re
import time
import zlib
from collections.abc import Iterator

import requests

from tests.strangler.dashboard.conftest import (
    ACTOR,
    ROUTES,
    Dashboard,
    dashboard_env,
    start_dashboard,
)
from tests.strangler.dashboard.synthetic import SECRET_VALUE, FakeProxy, route_name
from tests.strangler.plans.fleet import http_server


def _examples(document: dict) -> list[dict]:
    return [
        cluster["example"]
        for route in document["comparison"]["routes"]
        for cluster in route["clusters"]
        if "example" in cluster
    ]


def test_the_public_overview_has_every_part_and_no_example_or_identity(dashboard: Dashboard):
    response = dashboard.get("/api/overview")

    assert response.status_code == 200
    document = response.json()
    assert document["access"] == {"admin": False}
    assert len(document["routes"]) == ROUTES
    held = next(r for r in document["routes"] if r["name"] == route_name(1))
    assert held["held"] is True
    assert [p["name"] for p in document["plans"]] == ["plan-00", "plan-01"]
    assert set(document["headline"]["plans"]) == {"plan-00", "plan-01"}
    compared = {r["route"]: r for r in document["comparison"]["routes"]}
    assert compared[route_name(0)]["difference_rate"] == 0.1
    assert compared[route_name(0)]["not_comparable"] == 1
    assert compared[route_name(0)]["clusters"][0]["count"] == 4
    assert _examples(document) == []
    assert document["audit"]
    assert all(entry["actor"] is None for entry in document["audit"])
    assert SECRET_VALUE not in response.text
    assert ACTOR not in response.text


def test_the_admin_token_shows_the_examples_and_who_did_what(dashboard: Dashboard):
    response = dashboard.get("/api/overview", headers=dashboard.admin_headers())

    assert response.status_code == 200
    document = response.json()
    assert document["access"] == {"admin": True}
    examples = _examples(document)
    assert examples
    assert all(e["differences"][0]["path"] == "note" for e in examples)
    assert SECRET_VALUE in response.text
    assert document["audit"][0]["actor"] == ACTOR
    assert document["audit"][0]["action"] == "hold"


def test_a_wrong_token_is_refused_with_a_stable_code(dashboard: Dashboard):
    for path in ("/api/overview", "/events", "/report"):
        response = dashboard.get(path, headers={"Authorization": "Bearer not-the-token"})
        assert response.status_code == 401, path
        assert response.json()["code"] == "invalid_token"
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_the_full_report_needs_the_token(dashboard: Dashboard):
    assert dashboard.get("/report").json()["code"] == "login_required"

    response = dashboard.get("/report", headers=dashboard.admin_headers())

    assert response.status_code == 200
    assert route_name(0) in response.text
    assert "script" not in response.headers["Content-Security-Policy"]


def test_logging_in_sets_a_strict_http_only_cookie_that_shows_examples(dashboard: Dashboard):
    session = requests.Session()
    refused = session.post(f"{dashboard.url}/login", data={"token": "wrong"}, timeout=10)
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_token"
    assert not session.cookies

    answer = session.post(
        f"{dashboard.url}/login", data={"token": dashboard.token},
        headers={"Accept": "application/json"}, timeout=10,
    )  # fmt: skip

    assert answer.status_code == 200
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert dashboard.token not in cookie
    assert _examples(session.get(f"{dashboard.url}/api/overview", timeout=10).json())

    session.post(f"{dashboard.url}/logout", headers={"Accept": "application/json"}, timeout=10)
    assert _examples(session.get(f"{dashboard.url}/api/overview", timeout=10).json()) == []


def test_a_forged_or_cross_site_session_is_not_accepted(dashboard: Dashboard):
    forged = {"strangler_dashboard": f"{int(time.time()) + 3600}.{'0' * 64}"}
    document = dashboard.get("/api/overview", cookies=forged).json()
    assert document["access"] == {"admin": False}

    cross = requests.post(
        f"{dashboard.url}/login", data={"token": dashboard.token},
        headers={"Origin": "http://evil.example"}, timeout=10,
    )  # fmt: skip
    assert cross.status_code == 403
    assert cross.json()["code"] == "cross_origin"


def test_every_answer_carries_a_csp_without_inline_script(dashboard: Dashboard):
    for path in ("/", "/app.js", "/app.css", "/api/overview", "/healthz"):
        headers = dashboard.get(path).headers
        csp = headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == "'self'", path
        assert directives["frame-ancestors"] == "'none'", path
        assert headers["X-Content-Type-Options"] == "nosniff", path


def test_the_page_has_no_inline_script_and_writes_no_html_from_data(dashboard: Dashboard):
    page = dashboard.get("/").text
    script = dashboard.get("/app.js").text

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert re.findall(r"\son[a-z]+=", page) == []  # no inline event handlers
    assert "innerHTML" not in script
    assert "insertAdjacentHTML" not in script
    for section in ("headline", "routes", "comparison", "sync", "plans", "timeline"):
        assert f'id="{section}"' in page
    assert 'id="status-line"' in page
    assert 'form id="login"' in page


def test_the_json_is_gzipped_for_clients_that_take_it(dashboard: Dashboard):
    plain = dashboard.get("/api/overview", headers={"Accept-Encoding": "identity"})
    response = dashboard.get("/api/overview", headers={"Accept-Encoding": "gzip"}, stream=True)

    assert "Content-Encoding" not in plain.headers
    assert response.headers["Content-Encoding"] == "gzip"
    raw = response.raw.read(decode_content=False)
    assert json.loads(gzip.decompress(raw)) == plain.json()
    assert len(raw) < len(plain.content) / 3


def _events(dashboard: Dashboard, **kwargs: object) -> Iterator[tuple[str, str]]:
    """``(event, data)`` from ``/events``; comments as ``("comment", text)``."""
    with requests.get(f"{dashboard.url}/events", stream=True, timeout=10, **kwargs) as response:  # type: ignore[arg-type]
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        kind, data = "message", []
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith(":"):
                yield "comment", line[1:].strip()
            elif line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data.append(line.split(":", 1)[1].strip())
            elif line == "" and data:
                yield kind, "\n".join(data)
                kind, data = "message", []


def test_the_event_stream_sends_the_document_then_each_change(dashboard: Dashboard):
    stream = _events(dashboard)
    kind, data = next(e for e in stream if e[0] != "comment")
    assert kind == "overview"
    first = json.loads(data)
    assert first["access"] == {"admin": False}
    assert len(first["routes"]) == ROUTES

    # When a route moves to the service
    dashboard.proxy.set_mode(route_name(4), "service")

    # Then a patch carries the row within two seconds, and the document moved one version
    deadline = time.monotonic() + 2.0
    version = first["version"]
    for kind, data in stream:
        assert time.monotonic() < deadline, "no patch with the route's change in time"
        if kind != "patch":
            continue
        patch = json.loads(data)
        assert patch["version"] == version + 1
        version = patch["version"]
        rows = patch.get("routes") or patch["set"].get("routes") or []
        changed = [r for r in rows if r["name"] == route_name(4)]
        if changed and changed[0]["mode"] == "service":
            assert len(rows) < ROUTES  # a patch, not the whole table
            break


def test_the_public_event_stream_has_no_example_the_admin_one_has(dashboard: Dashboard):
    public = next(d for k, d in _events(dashboard) if k == "overview")
    admin = next(
        d for k, d in _events(dashboard, headers=dashboard.admin_headers()) if k == "overview"
    )

    assert SECRET_VALUE not in public
    assert ACTOR not in public
    assert SECRET_VALUE in admin
    assert ACTOR in admin


def test_a_thousand_routes_and_ten_plans_make_one_compact_document(tmp_path):
    proxy = FakeProxy(1000, per_read=0)
    with http_server(proxy.answer) as (admin_url, _):
        env = {**dashboard_env(), "STRANGLER_VAR_DIR": str(tmp_path / "var")}
        running = start_dashboard(tmp_path, admin_url, proxy, routes=1000, plans=10, env=env)
        try:
            plain = running.get("/api/overview", headers={"Accept-Encoding": "identity"})
            packed = running.get("/api/overview", headers={"Accept-Encoding": "gzip"}, stream=True)
            size = len(packed.raw.read(decode_content=False))
        finally:
            running.process.terminate()
            running.process.wait(timeout=10)

    document = plain.json()
    assert len(document["routes"]) == 1000
    assert len(document["plans"]) == 10
    assert len(document["headline"]["plans"]) == 10
    row = next(r for r in document["routes"] if r["name"] == route_name(2))  # a canary
    assert row["mode"] == "canary"
    assert row["canary_percent"] == 25.0
    assert row["read_sides"] == ["monolith", "catalog"]
    assert row["rps"] == 0.0
    assert set(row["sides"]) == {"monolith", "catalog"}
    assert set(row["sides"]["catalog"]) == {
        "requests",
        "errors",
        "p99_seconds",
        "rps",
        "error_rate",
    }
    assert row["breakers"] == {"catalog": "closed", "monolith": "closed"}
    # What the page needs per row and no more: a few hundred bytes, far less gzipped.
    assert len(plain.content) / 1000 < 600
    assert size < len(plain.content) / 4


def test_the_event_stream_is_gzipped_and_each_event_arrives_whole(dashboard: Dashboard):
    headers = {"Accept-Encoding": "gzip"}
    with requests.get(f"{dashboard.url}/events", headers=headers, stream=True, timeout=10) as got:
        assert got.headers["Content-Encoding"] == "gzip"
        assert got.headers["X-Content-Type-Options"] == "nosniff"
        inflate = zlib.decompressobj(31)
        text = ""
        deadline = time.monotonic() + 5
        changed = False
        # Each chunk is flushed whole: the document, then a patch once a route changes,
        # decompress without waiting for anything after them.
        for chunk in got.raw.stream(1024, decode_content=False):
            text += inflate.decompress(chunk).decode()
            if not changed and "event: overview" in text and text.endswith("\n\n"):
                dashboard.proxy.set_mode(route_name(6), "service")
                changed = True
            if "event: patch" in text and text.endswith("\n\n"):
                break
            assert time.monotonic() < deadline, "no whole patch in time"
    document = json.loads(text.split("event: overview\ndata: ", 1)[1].split("\n", 1)[0])
    assert len(document["routes"]) == ROUTES
    assert route_name(6) in text.split("event: patch", 1)[1]
