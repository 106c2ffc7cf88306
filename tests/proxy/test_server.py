"""The proxy as a real process: workers, reloads under load, graceful shutdown, refusals."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.proxy import yaml_writer
from tests.proxy.conftest import held_until, table_for, wait_for

REPO = Path(__file__).resolve().parents[2]
PRODUCTS = {"name": "products", "prefix": "/api/v1/products/", "owner": "catalog"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


async def _answers(url: str) -> bool:
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, timeout=aiohttp.ClientTimeout(total=1)) as r,
        ):
            return r.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


def _proxy_command(routes: Path, port: int, admin: int) -> list[str]:
    return [sys.executable, "-m", "strangler.proxy", "--config", str(routes),
            "--port", str(port), "--admin-port", str(admin)]  # fmt: skip


@pytest.fixture
async def run_proxy(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    processes: list[subprocess.Popen[bytes]] = []

    async def start(
        table: dict[str, Any],
        *,
        workers: int = 1,
        env: dict[str, str] | None = None,
        with_admin: bool = False,
    ) -> Any:
        routes = tmp_path / "routes.yaml"
        yaml_writer.write(routes, table)
        port, admin = _free_port(), _free_port()
        args = [*_proxy_command(routes, port, admin), "--workers", str(workers)]
        quiet = {"PROXY_ACCESS_LOG": "0", "PROXY_HEALTH_INTERVAL": "0.2"}
        with (tmp_path / f"proxy-{len(processes)}.log").open("wb") as log:
            proc = subprocess.Popen(
                args, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, **quiet, **(env or {})},
            )  # fmt: skip
        processes.append(proc)
        url = f"http://127.0.0.1:{port}"
        loop = asyncio.get_running_loop()
        end = loop.time() + 30
        while loop.time() < end and proc.poll() is None and not await _answers(f"{url}/healthz"):
            await asyncio.sleep(0.05)
        if proc.poll() is not None or not await _answers(f"{url}/healthz"):
            raise AssertionError((tmp_path / f"proxy-{len(processes) - 1}.log").read_text())
        if with_admin:
            return proc, url, routes, f"http://127.0.0.1:{admin}"
        return proc, url, routes

    yield start
    for proc in processes:
        if proc.poll() is None:
            proc.terminate()  # the parent stops its workers; a kill would orphan them
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


async def _load(url: str, stop: asyncio.Event, statuses: list[int], concurrency: int = 8) -> None:
    async def client() -> None:
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                try:
                    async with session.get(url) as response:
                        await response.read()
                        statuses.append(response.status)
                except aiohttp.ClientError:
                    statuses.append(-1)

    await asyncio.gather(*(client() for _ in range(concurrency)))


@pytest.mark.parametrize("workers", [1, 2])
async def test_a_reload_under_steady_load_fails_no_request(
    start_upstream, run_proxy, workers: int
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    base = table_for(monolith, service, {**PRODUCTS, "mode": "monolith"})
    flipped = table_for(monolith, service, {**PRODUCTS, "mode": "service"})
    _, url, routes = await run_proxy(base, workers=workers)

    stop = asyncio.Event()
    statuses: list[int] = []
    load = asyncio.create_task(_load(f"{url}/api/v1/products/", stop, statuses))
    for table in (flipped, base, flipped, base, flipped):
        served = len(service.seen)
        yaml_writer.write(routes, table)
        if table is flipped:
            await wait_for(
                lambda served=served: len(service.seen) > served + 20,
                deadline=10,
                what="the reload",
            )
        # Traffic runs on the new table for a while before the next change.
        done = len(statuses)
        await wait_for(lambda done=done: len(statuses) > done + 50, deadline=10, what="more load")
    stop.set()
    await load

    assert len(statuses) > 200
    assert set(statuses) == {200}


async def test_sighup_reloads_the_table(start_upstream, run_proxy) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    proc, url, routes = await run_proxy(
        table_for(monolith, service, {**PRODUCTS, "mode": "monolith"})
    )
    # Rewrite in place with the old mtime so only SIGHUP can reveal the change.
    stat = routes.stat()
    yaml_writer.write(routes, table_for(monolith, service, {**PRODUCTS, "mode": "service"}))
    os.utime(routes, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    proc.send_signal(signal.SIGHUP)

    async def served_by_service() -> bool:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{url}/api/v1/products/") as response,
        ):
            await response.read()
        return len(service.seen) > 0

    loop = asyncio.get_running_loop()
    end = loop.time() + 10
    while not await served_by_service():
        assert loop.time() < end, "SIGHUP did not reload the table"
        await asyncio.sleep(0.05)


async def test_sigterm_lets_requests_in_flight_finish(start_upstream, run_proxy) -> None:
    arrived, release = asyncio.Event(), asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        if request.path != "/slow/":
            return web.json_response({})  # the proxy's health checks
        arrived.set()
        await release.wait()
        return web.json_response({"done": True})

    monolith = await start_upstream("monolith", slow)
    proc, url, _ = await run_proxy(table_for(monolith))

    async with aiohttp.ClientSession() as session:
        in_flight = asyncio.create_task(session.get(f"{url}/slow/"))
        await asyncio.wait_for(arrived.wait(), timeout=10)
        proc.send_signal(signal.SIGTERM)
        # Draining starts by closing the listener; the request is still open then.
        port = int(url.rsplit(":", 1)[1])
        await wait_for(lambda: not _accepts(port), deadline=10, what="the listener to close")
        release.set()
        response = await asyncio.wait_for(in_flight, timeout=10)
        assert response.status == 200
        assert await response.json() == {"done": True}
    assert await asyncio.to_thread(proc.wait, 20) == 0


def test_the_proxy_refuses_to_start_without_the_c_parser(tmp_path: Path) -> None:
    routes = tmp_path / "routes.yaml"
    yaml_writer.write(routes, {"upstreams": {"monolith": {"url": "http://127.0.0.1:9"}}})

    result = subprocess.run(
        _proxy_command(routes, 0, 0), cwd=REPO, capture_output=True, text=True, timeout=60,
        env={**os.environ, "AIOHTTP_NO_EXTENSIONS": "1"},
    )  # fmt: skip

    assert result.returncode == 2
    assert "C HTTP parser" in result.stderr


def test_the_proxy_refuses_to_start_on_a_bad_table_naming_the_field(tmp_path: Path) -> None:
    routes = tmp_path / "routes.yaml"
    yaml_writer.write(
        routes,
        {"upstreams": {"monolith": {"url": "http://127.0.0.1:9"}},
         "routes": [{"name": "x", "prefix": "/x/", "owner": "monolith", "mode": "nope"}]},
    )  # fmt: skip

    result = subprocess.run(
        _proxy_command(routes, 0, 0), cwd=REPO, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 2
    assert f"{routes}: routes[0] (x), field 'mode'" in result.stderr


def _workers_of(parent_pid: int) -> list[int]:
    result = subprocess.run(["pgrep", "-P", str(parent_pid)], capture_output=True, text=True)
    return [int(pid) for pid in result.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_workers_stop_when_their_parent_is_killed(start_upstream, run_proxy) -> None:
    monolith = await start_upstream("monolith")
    proc, _, _ = await run_proxy(table_for(monolith), workers=2)
    workers = _workers_of(proc.pid)
    assert len(workers) >= 2

    proc.kill()
    proc.wait(timeout=10)

    await wait_for(
        lambda: not any(_alive(pid) for pid in workers),
        deadline=30,
        what="orphaned workers to exit",
    )


async def _held_writes(admin: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(f"{admin}/metrics") as response:
        text = await response.text()
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in text.splitlines()
        if line.startswith('strangler_proxy_held_requests{route="products"}')
    )


async def test_a_hold_through_the_admin_api_reaches_every_worker(start_upstream, run_proxy) -> None:
    monolith = await start_upstream("monolith")
    catalog = await start_upstream("catalog")
    _, url, _, admin = await run_proxy(
        table_for(monolith, catalog, PRODUCTS),
        workers=2,
        env={"PROXY_ADMIN_TOKEN": "t0ken"},
        with_admin=True,
    )
    auth = {"Authorization": "Bearer t0ken"}
    # A connection each: SO_REUSEPORT spreads new connections over the workers, so twelve
    # writes all held means every worker holds (all on one worker: a 1 in 2048 chance).
    writes = 12

    async def post() -> int:
        connector = aiohttp.TCPConnector(force_close=True)
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.post(f"{url}/api/v1/products/", data=b"{}") as response,
        ):
            return response.status

    async with aiohttp.ClientSession(headers=auth) as session:
        async with session.post(f"{admin}/routes/products/hold", json={"seconds": 60}) as r:
            assert r.status == 200
        posts = [asyncio.create_task(post()) for _ in range(writes)]
        loop = asyncio.get_running_loop()
        end = loop.time() + 20
        while await _held_writes(admin) < writes and loop.time() < end:
            await asyncio.sleep(0.05)
        held_at_once = await _held_writes(admin)
        reached_monolith = [s for s in monolith.seen if s["method"] == "POST"]
        async with session.post(f"{admin}/routes/products/release", json={}) as r:
            assert r.status == 200
        statuses = await asyncio.gather(*posts)

    assert held_at_once == writes
    assert reached_monolith == []
    assert statuses == [200] * writes


async def test_slowloris_connections_are_cut_off_in_every_worker_while_others_are_served(
    start_upstream, run_proxy
) -> None:
    monolith = await start_upstream("monolith")
    _, url, _ = await run_proxy(table_for(monolith), workers=2, env={"PROXY_HEADER_TIMEOUT": "1"})
    port = int(url.rsplit(":", 1)[1])
    slow = [await asyncio.open_connection("127.0.0.1", port) for _ in range(20)]
    for _, writer in slow:  # spread by the kernel over both workers (SO_REUSEPORT)
        writer.write(b"GET /products/ HTTP/1.1\r\nHost: shop\r\nX-Half: ")

    async with aiohttp.ClientSession() as session, session.get(f"{url}/products/") as served:
        assert served.status == 200
    answers = await asyncio.gather(
        *(asyncio.wait_for(reader.read(), timeout=10) for reader, _ in slow)
    )
    for _, writer in slow:
        writer.close()

    assert {answer.split(b" ", 2)[1] for answer in answers} == {b"408"}


# --- the live gauges summed over workers: a worker gone counts no more -------------------


async def _writes_in_flight(admin: str) -> int | None:
    """Writes in flight on route products in /metrics (every worker's); None: not reported."""
    async with aiohttp.ClientSession() as session, session.get(f"{admin}/metrics") as response:
        text = await response.text()
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith('strangler_proxy_writes_in_flight{route="products"}')
    ]
    return round(sum(values)) if values else None


def _worker_counting_a_write(folder: Path) -> int:
    """The pid whose live-gauge file counts a write in flight on route products."""
    from prometheus_client.mmap_dict import MmapedDict

    for path in folder.glob("gauge_livesum_*.db"):
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):
            if "strangler_proxy_writes_in_flight" in key and '"products"' in key and value:
                return int(path.stem.rpartition("_")[2])
    raise AssertionError(f"no worker's gauge in {folder} counts the write")


async def test_a_worker_killed_with_a_write_in_flight_leaves_no_count_behind(
    start_upstream, run_proxy, tmp_path
) -> None:
    """Else every later cutover of the route would wait on a write nobody will answer."""
    never = asyncio.Event()
    stuck = held_until(never)
    monolith, catalog = await start_upstream("monolith", stuck), await start_upstream("catalog")
    folder = tmp_path / "metrics"
    folder.mkdir()
    proc, url, _, admin = await run_proxy(
        table_for(monolith, catalog, PRODUCTS),
        workers=2,
        env={"PROMETHEUS_MULTIPROC_DIR": str(folder)},
        with_admin=True,
    )

    async def post() -> None:
        async with aiohttp.ClientSession() as session:
            with contextlib.suppress(aiohttp.ClientError):
                await session.post(f"{url}/api/v1/products/", data=b"{}")

    write = asyncio.create_task(post())
    loop = asyncio.get_running_loop()
    end = loop.time() + 20
    while await _writes_in_flight(admin) != 1:
        assert loop.time() < end, "the write never showed as in flight"
        await asyncio.sleep(0.05)
    os.kill(_worker_counting_a_write(folder), signal.SIGKILL)
    end, seen = loop.time() + 20, None
    while seen != 0:
        assert loop.time() < end, f"the killed worker's write is still counted ({seen})"
        await asyncio.sleep(0.05)
        # A connection the kernel gave the dying worker's admin socket is refused.
        with contextlib.suppress(aiohttp.ClientConnectionError):
            seen = await _writes_in_flight(admin)
    assert proc.poll() is None  # the other worker serves on
    never.set()
    await write


async def test_counts_left_by_workers_of_an_earlier_run_are_dropped_at_start(
    start_upstream, run_proxy, tmp_path
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    # A process that exits with a write counted, as a worker killed mid-write leaves it.
    left = "from strangler.proxy import metrics; metrics.writes_in_flight_of('products').inc()"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    subprocess.run([sys.executable, "-c", left], env=env, cwd=REPO, check=True, timeout=60)
    monolith, catalog = await start_upstream("monolith"), await start_upstream("catalog")

    _, _, _, admin = await run_proxy(
        table_for(monolith, catalog, PRODUCTS),
        workers=2,
        env={"PROMETHEUS_MULTIPROC_DIR": str(folder)},
        with_admin=True,
    )

    assert await _writes_in_flight(admin) == 0  # reported (the table's routes), none left
