"""Request capture: a sampled share of each route's requests, redacted, in a JSONL file that
``strangler compare --requests`` replays."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import time
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY

from strangler.compare.captures import CaptureRecord, read_requests
from strangler.proxy.capture import RequestCapture
from strangler.proxy.config import parse_table_config
from strangler.proxy.settings import ProxySettings
from tests.proxy.conftest import table_for, wait_for

ORDERS = {"name": "orders", "prefix": "/api/v1/orders/", "owner": "monolith"}
CART = {"name": "cart", "prefix": "/cart/", "owner": "monolith"}
CAPTURE_FILE = Path("capture/requests.jsonl")


def _table(monolith: Any, *routes: dict[str, Any], capture: dict[str, Any] | None) -> dict:
    table = table_for(monolith, None, *routes)
    if capture is not None:
        table["capture"] = capture
    return table


def _count(route: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "strangler_proxy_capture_records_total", {"route": route, "outcome": outcome}
    )
    return value or 0.0


def _records(path: Path) -> list[CaptureRecord]:
    return read_requests(path) if path.exists() else []


async def _get(proxy: Any, target: str, **kwargs: Any) -> None:
    async with proxy.session.get(f"{proxy.url}{target}", **kwargs) as response:
        assert response.status == 200
        await response.read()


def test_the_var_dir_comes_from_strangler_var_dir() -> None:
    demo = {"STRANGLER_DEMO": "1"}
    assert ProxySettings.from_env(demo).var_dir == Path("var")
    assert ProxySettings.from_env({**demo, "STRANGLER_VAR_DIR": "/srv/x"}).var_dir == Path("/srv/x")


async def test_capture_is_off_without_a_capture_section(
    start_upstream, start_proxy, tmp_path: Path
) -> None:
    monolith = await start_upstream("monolith")
    var = tmp_path / "var"
    proxy = await start_proxy(_table(monolith, ORDERS, capture=None), var_dir=var)

    for _ in range(3):
        await _get(proxy, "/api/v1/orders/")

    assert proxy.state.capture.enabled is False
    assert not var.exists()


async def test_rate_one_records_every_request_and_a_route_rate_of_zero_none(
    start_upstream, start_proxy, tmp_path: Path
) -> None:
    monolith = await start_upstream("monolith")
    quiet = {**CART, "capture": {"sample_rate": 0}}
    table = _table(monolith, ORDERS, quiet, capture={"sample_rate": 1})
    proxy = await start_proxy(table, var_dir=tmp_path)

    for number in range(4):
        await _get(proxy, f"/cart/?n={number}")
        await _get(proxy, f"/elsewhere/?n={number}")  # no route: not a route's traffic
    for number in range(5):
        await _get(proxy, f"/api/v1/orders/?n={number}")

    path = tmp_path / CAPTURE_FILE
    # One thread writes in queue order: the last orders record written means all before.
    await wait_for(lambda: len(_records(path)) >= 5, deadline=5, what="5 records")
    records = _records(path)
    assert [(r.route, r.target) for r in records] == [
        ("orders", f"/api/v1/orders/?n={number}") for number in range(5)
    ]


async def test_a_route_rate_overrides_the_tables(
    start_upstream, start_proxy, tmp_path: Path
) -> None:
    monolith = await start_upstream("monolith")
    loud = {**CART, "capture": {"sample_rate": 1}}
    proxy = await start_proxy(
        _table(monolith, ORDERS, loud, capture={"sample_rate": 0}), var_dir=tmp_path
    )

    for number in range(3):
        await _get(proxy, f"/api/v1/orders/?n={number}")
        await _get(proxy, f"/cart/?n={number}")

    path = tmp_path / CAPTURE_FILE
    await wait_for(lambda: len(_records(path)) >= 3, deadline=5, what="3 records")
    assert [r.target for r in _records(path)] == [f"/cart/?n={n}" for n in range(3)]


def test_a_share_samples_about_that_share_of_a_routes_requests(tmp_path: Path) -> None:
    config = parse_table_config(
        {
            "upstreams": {"monolith": {"url": "http://127.0.0.1:9"}},
            "routes": [{**ORDERS, "capture": {"sample_rate": 0.25}}, CART],
            "capture": {"sample_rate": 0.5},
        },
        source="test",
    )
    capture = RequestCapture(tmp_path)
    capture.configure(config)
    try:
        orders = sum(capture.wants("orders") for _ in range(20_000)) / 20_000
        cart = sum(capture.wants("cart") for _ in range(20_000)) / 20_000
    finally:
        capture.close()

    assert 0.23 < orders < 0.27
    assert 0.48 < cart < 0.52


async def test_a_record_replays_the_request_the_client_sent(
    start_upstream, start_proxy, tmp_path: Path
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(
        _table(monolith, ORDERS, capture={"sample_rate": 1}), var_dir=tmp_path
    )

    async with proxy.session.post(
        f"{proxy.url}/api/v1/orders/?page=2",
        json={"sku": "A-1", "quantity": 2},
        headers={"Accept": "application/json", "X-Client": "tests"},
    ) as response:
        assert response.status == 200

    path = tmp_path / CAPTURE_FILE
    await wait_for(lambda: len(_records(path)) == 1, deadline=5, what="the record")
    [record] = _records(path)
    request = record.request(origin="http://candidate")
    assert (request.method, request.target) == ("POST", "/api/v1/orders/?page=2")
    assert json.loads(request.body) == {"sku": "A-1", "quantity": 2}
    assert request.header("X-Client") == "tests"
    assert request.header("Content-Type") == "application/json"
    assert record.route == "orders"
    assert record.body_truncated is False
    # The client's request, not the forwarded one: no headers the proxy adds.
    assert request.header("X-Forwarded-For") is None
    assert monolith.seen[0]["body"] == request.body


async def test_strangler_compare_reads_a_captured_file(
    start_upstream, start_proxy, tmp_path: Path
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(
        _table(monolith, ORDERS, capture={"sample_rate": 1}), var_dir=tmp_path
    )
    for target in ("/api/v1/orders/", "/api/v1/orders/7/?full=1"):
        await _get(proxy, target)
    async with proxy.session.delete(f"{proxy.url}/api/v1/orders/7/") as response:
        assert response.status == 200

    path = tmp_path / CAPTURE_FILE
    await wait_for(lambda: len(_records(path)) == 3, deadline=5, what="3 records")
    # What `strangler compare --requests FILE` reads (strangler.cli.compare.compare_replay).
    records = read_requests(path)

    assert [(r.method, r.target) for r in records] == [
        ("GET", "/api/v1/orders/"),
        ("GET", "/api/v1/orders/7/?full=1"),
        ("DELETE", "/api/v1/orders/7/"),
    ]
    assert all(r.source.startswith(f"{path}:") for r in records)


async def test_no_credential_or_configured_value_reaches_the_file(
    start_upstream, start_proxy, tmp_path: Path
) -> None:
    monolith = await start_upstream("monolith")
    table = _table(monolith, ORDERS, capture={"sample_rate": 1, "redact": ["card_number"]})
    proxy = await start_proxy(table, var_dir=tmp_path)

    async with proxy.session.post(
        f"{proxy.url}/api/v1/orders/?access_token=SECRET-QUERY-TOKEN&page=2",
        json={
            "password": "SECRET-PASSWORD",
            "card_number": "SECRET-CARD",
            "nested": {"refresh_token": "SECRET-NESTED"},
            "note": "kept",
        },
        headers={
            "Cookie": "sessionid=SECRET-SESSION; csrftoken=SECRET-CSRF-COOKIE",
            "Authorization": "Bearer SECRET-BEARER",
            "X-CSRFToken": "SECRET-CSRF-HEADER",
            "X-Strangler-Identity": "SECRET-IDENTITY",
            "X-Api-Token": "SECRET-API-TOKEN",
        },
    ) as response:
        assert response.status == 200
    async with proxy.session.post(
        f"{proxy.url}/api/v1/orders/",
        data={"username": "ann", "password": "SECRET-FORM-PASSWORD", "card_number": "SECRET-FC"},
    ) as response:
        assert response.status == 200

    path = tmp_path / CAPTURE_FILE
    await wait_for(lambda: len(_records(path)) == 2, deadline=5, what="2 records")
    written = path.read_bytes()
    assert [line for line in written.splitlines() if b"SECRET" in line] == []
    # Redaction keeps what is no secret.
    assert b"kept" in written
    assert b"ann" in written
    # The upstream still got the real values: capture changes nothing forwarded.
    assert monolith.seen[0]["headers"]["Authorization"] == "Bearer SECRET-BEARER"


async def test_the_file_rotates_at_its_size_keeping_its_backups(
    start_upstream, start_proxy, tmp_path: Path
) -> None:
    monolith = await start_upstream("monolith")
    capture = {"sample_rate": 1, "max_file_bytes": 1024, "backups": 2, "path": "r/c.jsonl"}
    proxy = await start_proxy(_table(monolith, ORDERS, capture=capture), var_dir=tmp_path)
    written_before = _count("orders", "written")

    for number in range(20):
        async with proxy.session.post(
            f"{proxy.url}/api/v1/orders/?n={number}", data=b"x" * 200
        ) as response:
            assert response.status == 200

    await wait_for(
        lambda: _count("orders", "written") - written_before == 20, deadline=5, what="20 writes"
    )
    path = tmp_path / "r/c.jsonl"
    files = [path, Path(f"{path}.1"), Path(f"{path}.2")]
    assert all(f.exists() and 0 < f.stat().st_size <= 1024 for f in files)
    assert not Path(f"{path}.3").exists()
    # Newest in the file, older in .1, oldest kept in .2; together the latest records.
    kept = [r.target for f in reversed(files) for r in read_requests(f)]
    assert kept == [f"/api/v1/orders/?n={n}" for n in range(20 - len(kept), 20)]


async def test_a_body_beyond_the_capture_limit_is_recorded_cut_and_forwarded_whole(
    start_upstream, start_proxy, tmp_path: Path
) -> None:
    monolith = await start_upstream("monolith")
    uploads = {**ORDERS, "stream_request_body": True}  # above the proxy's buffer: streamed
    proxy = await start_proxy(
        _table(monolith, uploads, capture={"sample_rate": 1, "max_body_bytes": 1000}),
        var_dir=tmp_path,
    )
    small, large = b"s" * 2000, os.urandom(600 * 1024).hex().encode()  # large is streamed

    for body in (small, large):
        sent = io.BytesIO(body)  # aiohttp warns about large bytes
        async with proxy.session.post(f"{proxy.url}/api/v1/orders/", data=sent) as response:
            assert response.status == 200

    path = tmp_path / CAPTURE_FILE
    await wait_for(lambda: len(_records(path)) == 2, deadline=5, what="2 records")
    records = _records(path)
    assert [(r.body, r.body_truncated) for r in records] == [
        (small[:1000], True),
        (large[:1000], True),
    ]
    assert [s["body"] for s in monolith.seen] == [small, large]


async def test_a_streamed_body_without_a_length_is_recorded(
    start_upstream, start_proxy, tmp_path: Path
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(
        _table(monolith, ORDERS, capture={"sample_rate": 1}), var_dir=tmp_path
    )

    async def chunks():  # chunked transfer encoding: no Content-Length
        for part in (b'{"a": ', b"1}"):
            yield part

    async with proxy.session.post(f"{proxy.url}/api/v1/orders/", data=chunks()) as response:
        assert response.status == 200

    path = tmp_path / CAPTURE_FILE
    await wait_for(lambda: len(_records(path)) == 1, deadline=5, what="the record")
    assert _records(path)[0].body == b'{"a": 1}'
    assert monolith.seen[0]["body"] == b'{"a": 1}'


async def test_a_failing_write_is_counted_and_the_request_still_served(
    start_upstream, start_proxy, tmp_path: Path
) -> None:
    monolith = await start_upstream("monolith")
    (tmp_path / "capture").write_text("a file where the capture directory should be")
    proxy = await start_proxy(
        _table(monolith, ORDERS, capture={"sample_rate": 1}), var_dir=tmp_path
    )
    failed_before = _count("orders", "failed")

    for _ in range(3):
        await _get(proxy, "/api/v1/orders/")

    await wait_for(
        lambda: _count("orders", "failed") - failed_before == 3, deadline=5, what="3 failures"
    )


async def test_a_full_queue_drops_and_counts_instead_of_blocking(tmp_path: Path) -> None:
    config = parse_table_config(
        {
            "upstreams": {"monolith": {"url": "http://127.0.0.1:9"}},
            "routes": [ORDERS],
            "capture": {"sample_rate": 1, "path": "fifo"},
        },
        source="test",
    )
    # Opening a FIFO for writing blocks until a reader opens it: a disk that hangs.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    capture = RequestCapture(tmp_path, queue_size=2)
    capture.configure(config)
    dropped_before = _count("orders", "dropped")
    written_before = _count("orders", "written")
    headers = [(b"Host", b"proxy.test")]

    capture.submit("orders", "GET", "/api/v1/orders/?n=0", headers, b"")
    # The thread took the first record and hangs opening the file.
    await wait_for(capture._queue.empty, deadline=5, what="the writer to take a record")
    started = time.perf_counter()
    for number in range(1, 6):
        capture.submit("orders", "GET", f"/api/v1/orders/?n={number}", headers, b"")
    submitting = time.perf_counter() - started

    assert _count("orders", "dropped") - dropped_before == 3
    assert submitting < 0.5  # never waits for the writer
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        received = b""

        def drained() -> bool:
            nonlocal received
            with contextlib.suppress(BlockingIOError):
                received += os.read(reader, 65536)
            return received.count(b"\n") == 3

        await wait_for(drained, deadline=5, what="the queued records")
    finally:
        await asyncio.to_thread(capture.close)
        os.close(reader)
    targets = [json.loads(line)["target"] for line in received.splitlines()]
    assert targets == [f"/api/v1/orders/?n={n}" for n in range(3)]
    assert _count("orders", "written") - written_before == 3


async def test_a_table_reload_turns_capture_on_and_off(
    start_upstream, start_proxy, tmp_path: Path
) -> None:
    monolith = await start_upstream("monolith")
    off = _table(monolith, ORDERS, capture=None)
    on = _table(monolith, ORDERS, capture={"sample_rate": 1})
    proxy = await start_proxy(off, var_dir=tmp_path)
    capture = proxy.state.capture
    path = tmp_path / CAPTURE_FILE

    await _get(proxy, "/api/v1/orders/?n=off-at-start")
    proxy.write_table(on)
    assert (await proxy.reload()).changed
    await wait_for(lambda: capture.enabled, deadline=5, what="capture on")
    await _get(proxy, "/api/v1/orders/?n=on")
    await wait_for(lambda: len(_records(path)) == 1, deadline=5, what="the first record")
    proxy.write_table(off)
    assert (await proxy.reload()).changed
    await wait_for(lambda: not capture.enabled, deadline=5, what="capture off")
    await _get(proxy, "/api/v1/orders/?n=off-again")
    proxy.write_table(on)
    assert (await proxy.reload()).changed
    await wait_for(lambda: capture.enabled, deadline=5, what="capture on again")
    await _get(proxy, "/api/v1/orders/?n=on-again")

    await wait_for(lambda: len(_records(path)) == 2, deadline=5, what="the second record")
    assert [r.target for r in _records(path)] == [
        "/api/v1/orders/?n=on",
        "/api/v1/orders/?n=on-again",
    ]
