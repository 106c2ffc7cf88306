"""Running the proxy: one or more worker processes sharing the port (SO_REUSEPORT)."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from aiohttp import web

from strangler.control import StoreError
from strangler.proxy.app import build_app
from strangler.proxy.public import PublicServer
from strangler.proxy.settings import ProxySettings
from strangler.proxy.state import STATE, ProxyState

__all__ = ["c_parser_available", "run", "serve"]

logger = logging.getLogger(__name__)
# In-flight requests get this long to finish on SIGTERM before connections are cut.
SHUTDOWN_GRACE_SECONDS = 20.0


def c_parser_available() -> bool:
    """aiohttp's pure-Python HTTP parser is slower and has had request-smuggling bugs its C
    parser did not; the proxy runs only on the C one."""
    if os.environ.get("AIOHTTP_NO_EXTENSIONS"):
        return False
    from aiohttp import http_parser

    return http_parser.HttpRequestParser is not getattr(http_parser, "HttpRequestParserPy", None)


# A worker checks this often that the process that started it is still there.
PARENT_CHECK_SECONDS = 1.0


async def _stop_when_orphaned(parent_pid: int, stop: asyncio.Event) -> None:
    """A worker whose parent died (killed, not asked to stop) drains and exits instead of
    serving on alone with nobody to stop it."""
    while os.getppid() == parent_pid:
        await asyncio.sleep(PARENT_CHECK_SECONDS)
    logger.warning("proxy worker %s lost its parent %s; stopping", os.getpid(), parent_pid)
    stop.set()


async def serve(
    settings: ProxySettings, *, reuse_port: bool, parent_pid: int | None = None
) -> None:
    """Serve until SIGTERM or SIGINT, then drain. SIGHUP reloads the route table."""
    from strangler.proxy.admin import build_admin_app

    app = build_app(settings)
    public = PublicServer(app, shutdown_timeout=SHUTDOWN_GRACE_SECONDS)
    await public.start(settings.host, settings.port, reuse_port=reuse_port)
    admin_runner = web.AppRunner(build_admin_app(settings, app), access_log=None)
    await admin_runner.setup()
    await web.TCPSite(
        admin_runner, settings.host, settings.admin_port, reuse_port=reuse_port
    ).start()
    logger.info(
        "proxy listening on %s:%s (admin %s)", settings.host, settings.port, settings.admin_port
    )

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(_reload(app[STATE])))
    watchdog = None
    if parent_pid is not None:
        watchdog = asyncio.create_task(_stop_when_orphaned(parent_pid, stop))
    await stop.wait()
    if watchdog is not None:
        watchdog.cancel()
    logger.info("proxy draining")
    await admin_runner.cleanup()
    await public.stop()


async def _reload(state: ProxyState) -> None:
    """SIGHUP: the file read again, or in a fleet the control store (never the file)."""
    if state.fleet is None:
        await state.store.reload()
        return
    try:
        await state.fleet.refresh()
    except StoreError as exc:
        logger.error("SIGHUP: the control store cannot be read: %s", exc.message)


def _run_loop(main: Coroutine[Any, Any, None], settings: ProxySettings) -> None:
    """Run on the event loop the settings name: uvloop (libuv), or asyncio's own."""
    if settings.event_loop == "asyncio":
        asyncio.run(main)
        return
    import uvloop

    uvloop.run(main)


def _worker(settings: ProxySettings, parent_pid: int) -> None:
    from strangler.proxy.logs import configure_logging

    configure_logging(settings)
    _run_loop(serve(settings, reuse_port=True, parent_pid=parent_pid), settings)


def run(settings: ProxySettings) -> int:
    """Start ``settings.workers`` processes (or serve in this one) and wait for them."""
    if settings.workers == 1:
        _run_loop(serve(settings, reuse_port=False), settings)
        return 0
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(
            target=_worker, args=(replace(settings, worker_index=index), os.getpid()), daemon=False
        )
        for index in range(settings.workers)
    ]
    for process in workers:
        process.start()

    def forward(signum: int, _frame: object) -> None:
        for process in workers:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    running = {process.sentinel: process for process in workers}
    while running:
        for sentinel in wait(list(running)):
            gone = running.pop(sentinel)  # type: ignore[arg-type]  # sentinels are ints
            gone.join()
            _forget_live_gauges(gone.pid)
    return max((p.exitcode or 0) for p in workers)


def _forget_live_gauges(pid: int | None) -> None:
    """A worker that exited, however it did, counts no more in the live gauges the workers
    sum (``/metrics``): its writes in flight and held requests would otherwise stay counted,
    and every later cutover would wait on them."""
    if pid is not None and "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def _forget_earlier_runs_gauges(folder: str) -> None:
    """Live gauges (writes in flight, held requests) left in ``folder`` by an earlier run (a
    ``PROMETHEUS_MULTIPROC_DIR`` the operator keeps across restarts): no worker of this run
    has started yet, so each is a gone process's and would stay counted."""
    for stale in Path(folder).glob("gauge_live*.db"):
        stale.unlink()


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    from strangler.proxy.config import load_table_config
    from strangler.proxy.errors import ConfigError
    from strangler.proxy.logs import configure_logging
    from strangler.proxy.settings import SettingsError

    parser = argparse.ArgumentParser(
        prog="python -m strangler.proxy", description="The strangler proxy."
    )
    parser.add_argument("--config", help="route table (default: $STRANGLER_ROUTES or routes.yaml)")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--admin-port", type=int)
    parser.add_argument("--workers", type=int)
    args = parser.parse_args(argv)
    if not c_parser_available():
        print("refusing to start: aiohttp's C HTTP parser is unavailable (AIOHTTP_NO_EXTENSIONS "
              "is set or the extension is not built)", file=sys.stderr)  # fmt: skip
        return 2
    try:
        settings = ProxySettings.from_env()
    except SettingsError as exc:
        print(f"refusing to start: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    from pathlib import Path

    overrides = {
        "routes_path": Path(args.config) if args.config else None,
        "host": args.host,
        "port": args.port,
        "admin_port": args.admin_port,
        "workers": args.workers,
    }
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    try:
        if settings.store_url is None:
            load_table_config(settings.routes_path)
        else:  # the store's table, or the file seeding an empty store, once for every worker
            _run_loop(_check_store(settings), settings)
    except ConfigError as exc:
        print(f"refusing to start: {exc}", file=sys.stderr)
        return 2
    if settings.workers > 1:
        multiproc_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", _metrics_dir())
        os.makedirs(multiproc_dir, exist_ok=True)
        _forget_earlier_runs_gauges(multiproc_dir)
    return run(settings)


async def _check_store(settings: ProxySettings) -> None:
    from strangler.control import ControlStore
    from strangler.proxy.fleet_start import first_table

    assert settings.store_url is not None
    control = ControlStore(settings.store_url, application_name="strangler proxy start")
    try:
        await first_table(
            control, settings.routes_path, member=settings.member, sync_secret=settings.sync_secret
        )
    finally:
        control.close()


def _metrics_dir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="strangler-proxy-metrics-")
