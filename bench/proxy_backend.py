"""The servers the proxy benchmark runs: the backend, nginx as the reference proxy and our
proxy; their configurations and their processes. Every file they write is in the run's
temp dir, and every process is stopped when the run ends.

The backend is nginx answering a fixed ~1 KiB JSON body with ``return 200`` from memory,
not a Python app: it must never be the bottleneck, and nginx answers with no file I/O and
no garbage collector in a small fraction of a core (``bench_proxy.py`` prints its CPU share
for every run as the evidence). One nginx process serves two ports: the "monolith" both
proxies forward to, and the "catalog" service that shadow mode copies requests to.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "AIOHTTP_CLIENT_ALONE",
    "BENCH_PATH",
    "LEAN_CLIENT_ALONE",
    "REPO",
    "BenchError",
    "Servers",
    "Service",
    "Target",
    "backend_body",
    "backend_servers",
    "fetch",
    "free_port",
    "local_sockets",
    "nginx_conf",
    "reference_proxy_servers",
    "routes_yaml",
    "wait_ready",
]

REPO = Path(__file__).resolve().parent.parent

BENCH_PATH = "/api/v1/products/42/"
# Idle keep-alive connections nginx keeps to the backend per worker: our proxy's default
# pool_size is 100, and 100 covers the 50 connections of the c50 runs.
NGINX_UPSTREAM_KEEPALIVE = 100
# nginx closes a connection after 1,000 requests by default; aiohttp never does. Both keep
# their connections for the whole run so that neither pays for reconnects the other doesn't.
NGINX_KEEPALIVE_REQUESTS = 10_000_000


def backend_body() -> str:
    """A product as the catalog API renders it, padded to ~1 KiB (a typical detail answer).
    Free of ``$``, ``'`` and ``\\``: it goes verbatim into nginx's ``return``."""
    product: dict[str, object] = {
        "id": 42,
        "sku": "SKU-000042",
        "slug": "espresso-cup-set-42",
        "name": "Espresso cup set",
        "price": "24.90",
        "currency": "EUR",
        "active": True,
        "category": {"id": 3, "slug": "kitchen", "name": "Kitchen"},
        "stock": {"available": 17, "reserved": 2},
        "description": "",
    }
    filler = "Porcelain cups with saucers, dishwasher safe. "
    while len(json.dumps(product, separators=(",", ":"))) < 1000:
        product["description"] = str(product["description"]) + filler
    body = json.dumps(product, separators=(",", ":"))
    assert not set(body) & {"$", "'", "\\"}
    return body


def nginx_conf(
    tmp: Path, name: str, workers: int, servers: str, *, worker_connections: int | None = 4096
) -> str:
    """A whole nginx.conf writing only under ``tmp``: no system file read or written.
    ``worker_connections=None`` leaves nginx's default (512, counting upstream connections)."""
    events = "" if worker_connections is None else f"worker_connections {worker_connections};"
    return f"""worker_processes {workers};
pid {tmp}/{name}.pid;
error_log {tmp}/{name}.error.log warn;
events {{ {events} }}
http {{
    access_log off;
    client_body_temp_path {tmp}/{name}-client-body;
    proxy_temp_path {tmp}/{name}-proxy;
    fastcgi_temp_path {tmp}/{name}-fastcgi;
    uwsgi_temp_path {tmp}/{name}-uwsgi;
    scgi_temp_path {tmp}/{name}-scgi;
    keepalive_requests {NGINX_KEEPALIVE_REQUESTS};
    keepalive_timeout 75s;
{servers}
}}
"""


def backend_servers(ports: list[int], body: str) -> str:
    """One ``server`` per port, each answering ``body`` to every path."""
    return "\n".join(
        f"""    server {{
        listen 127.0.0.1:{port};
        location / {{
            default_type application/json;
            return 200 '{body}';
        }}
    }}"""
        for port in ports
    )


def reference_proxy_servers(
    port: int, backend_port: int, *, client_body_buffer: str | None = None
) -> str:
    """nginx as the reference reverse proxy: keep-alive upstream, and the header work our
    proxy also does (forwarded-for and -proto, host, a request id). ``client_body_buffer``
    sets ``client_body_buffer_size``: nginx's default (8 KiB here) writes larger request
    bodies to a temp file, where ours holds up to 1 MiB in memory."""
    body_buffer = f"client_body_buffer_size {client_body_buffer};" if client_body_buffer else ""
    return f"""    upstream monolith {{
        server 127.0.0.1:{backend_port};
        keepalive {NGINX_UPSTREAM_KEEPALIVE};
        keepalive_requests {NGINX_KEEPALIVE_REQUESTS};
    }}
    server {{
        listen 127.0.0.1:{port};
        {body_buffer}
        location / {{
            proxy_pass http://monolith;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-ID $request_id;
        }}
    }}"""


def routes_yaml(
    monolith_port: int, *, catalog_port: int | None = None, shadow_rate: float | None = None
) -> str:
    """Our route table (schema: ``strangler/proxy/config.py``): everything to the monolith, or, with
    ``shadow_rate``, a catch-all route owned by ``catalog`` in mode ``shadow``."""
    lines = [
        "version: 1",
        "legacy: monolith",
        "upstreams:",
        f'  monolith: {{url: "http://127.0.0.1:{monolith_port}"}}',
    ]
    if catalog_port is not None:
        lines.append(f'  catalog: {{url: "http://127.0.0.1:{catalog_port}"}}')
    if shadow_rate is None:
        lines.append("routes: []")
    else:
        lines += [
            "routes:",
            "  - name: everything",
            "    prefix: /",
            "    owner: catalog",
            "    mode: shadow",
            f"    shadow: {{sample_rate: {shadow_rate}}}",
        ]
    return "\n".join(lines) + "\n"


# --- processes ---------------------------------------------------------------------------

# Our proxy answers ~1 s after its start here (imports of aiohttp, pydantic, prometheus);
# 30 s means it is stuck, not slow.
START_DEADLINE_SECONDS = 30.0
POLL_SECONDS = 0.05
# Our proxy drains in-flight requests on SIGTERM for up to 20 s (server.py).
STOP_TIMEOUT_SECONDS = 25.0
# `python -m strangler.proxy` with cProfile switched on by SIGUSR1 and written out by SIGUSR2, so
# the profile holds requests and not the start-up (imports, the table's validation). Wall-clock
# timed: a CPU-time timer costs a system call per event and slowed the proxy 10-fold here.
_PROFILED_PROXY = """
import cProfile, runpy, signal, sys
out = sys.argv.pop(1)
profiler = cProfile.Profile()
def dump(*_):
    profiler.disable()
    profiler.dump_stats(out)
signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
signal.signal(signal.SIGUSR2, dump)
runpy.run_module("strangler.proxy", run_name="__main__", alter_sys=True)
"""


# The ceiling for any proxy built on aiohttp's server: the same body answered by aiohttp
# itself, with no upstream, no routing, no client; on its low-level server and uvloop, as
# the proxy runs. Arguments: port, body.
_AIOHTTP_ALONE = """
import asyncio, sys
import uvloop
from aiohttp import web
body = sys.argv[2].encode()
async def answer(request):
    return web.Response(body=body, content_type="application/json")
async def main():
    runner = web.ServerRunner(web.Server(answer, access_log=None))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(sys.argv[1])).start()
    await asyncio.Event().wait()
uvloop.run(main())
"""

# aiohttp's client alone, with the session settings the proxy used before it had its own
# client (kept for comparison), fetching from the backend at a concurrency for some seconds.
# Prints the requests made and the CPU they took, as JSON. Arguments: url, seconds,
# concurrency.
AIOHTTP_CLIENT_ALONE = """
import asyncio, json, sys, time
import aiohttp
from yarl import URL
url, seconds, concurrency = URL(sys.argv[1], encoded=True), float(sys.argv[2]), int(sys.argv[3])
async def main():
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=100, limit_per_host=0),
        timeout=aiohttp.ClientTimeout(total=60, sock_connect=2, sock_read=30),
        auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("User-Agent",),
    )
    done, stop = 0, time.monotonic() + seconds
    async def fetch():
        nonlocal done
        while time.monotonic() < stop:
            async with session.get(url, allow_redirects=False) as response:
                await response.read()
            done += 1
    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.gather(*(fetch() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    await session.close()
    print(json.dumps({"requests": done, "cpu_s": cpu, "wall_s": wall}))
asyncio.run(main())
"""


# The other half of the ceiling: the proxy's own upstream client
# (strangler/proxy/upstream_client.py) alone, on uvloop as the proxy runs, sending the headers
# the proxy sends, in the same loop.
LEAN_CLIENT_ALONE = """
import asyncio, json, sys, time
from urllib.parse import urlsplit
import uvloop
from strangler.proxy.config import Timeouts
from strangler.proxy.upstream_client import UpstreamClient
url, seconds, concurrency = urlsplit(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
headers = [(b"Host", b"127.0.0.1:8000"), (b"X-Forwarded-For", b"127.0.0.1"),
           (b"X-Forwarded-Proto", b"http"), (b"X-Forwarded-Host", b"127.0.0.1:8000"),
           (b"X-Request-ID", b"0123456789abcdef0123456789abcdef")]
async def main():
    client = UpstreamClient("backend", f"http://{url.netloc}", pool_size=100,
                            timeouts=Timeouts())
    done, stop = 0, time.monotonic() + seconds
    async def fetch():
        nonlocal done
        while time.monotonic() < stop:
            response = await client.request("GET", url.path, headers)
            await response.read()
            response.release()
            done += 1
    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.gather(*(fetch() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    await client.close()
    print(json.dumps({"requests": done, "cpu_s": cpu, "wall_s": wall}))
uvloop.run(main())
"""


class BenchError(RuntimeError):
    """Something missing or not started; the message says what, with the server's output."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def local_sockets(port: int, states: tuple[str, ...]) -> int:
    """Sockets on local ``port`` in one of the kernel's TCP ``states`` (hex: 01 ESTABLISHED,
    08 CLOSE_WAIT, 0A LISTEN), from /proc/net/tcp and tcp6."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = [line.split() for line in Path(table).read_text().splitlines()[1:]]
        except OSError:
            continue
        # Columns: slot, local address:port (hex), remote address, state, ...
        suffix = f":{port:04X}"
        count += sum(1 for row in rows if row[1].endswith(suffix) and row[3] in states)
    return count


def listening_sockets(port: int) -> int:
    """Sockets listening on ``port``: one per worker of a SO_REUSEPORT server."""
    return local_sockets(port, ("0A",))


@dataclass
class Service:
    """A server started by this script, in its own process group, output to a log file."""

    name: str
    argv: list[str]
    log: Path
    env: dict[str, str] | None = None
    process: subprocess.Popen[bytes] | None = None
    cwd: Path = REPO

    def start(self) -> None:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def failure(self, what: str) -> BenchError:
        try:
            lines = self.log.read_text(errors="replace").splitlines()[-30:]
        except OSError:
            lines = []
        output = "\n".join(lines) or "(none)"
        return BenchError(f"{self.name} {what}.\ncommand: {' '.join(self.argv)}\noutput:\n{output}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            # The whole group: a worker must not outlive its parent.
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass(frozen=True)
class Target:
    """A server under test, as wrk and the report see it."""

    label: str
    kind: str  # direct | nginx | ours | ceiling
    workers: int
    url: str
    server: Service
    admin_url: str = ""


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=2.0) as response:
        return int(response.status), response.read()


def wait_ready(service: Service, url: str, body: str, *, listeners: int = 1) -> None:
    """Poll until ``url`` answers ``body`` and ``listeners`` sockets listen on its port."""
    port = int(url.split(":")[2].split("/")[0])
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    last = "no answer yet"
    while time.monotonic() < deadline:
        assert service.process is not None
        if service.process.poll() is not None:
            raise service.failure(f"exited with status {service.process.returncode}")
        try:
            status, got = fetch(url)
        except (urllib.error.URLError, OSError) as exc:
            last = repr(exc)
        else:
            listening = listening_sockets(port)
            if status == 200 and got.decode() == body and listening >= listeners:
                return
            last = f"status {status}, {len(got)} B, {listening}/{listeners} workers listening"
        time.sleep(POLL_SECONDS)
    raise service.failure(f"did not answer {url} in {START_DEADLINE_SECONDS:g} s ({last})")


def _quiet_env() -> dict[str, str]:
    # Demo mode: the proxy under test starts with the published demo secrets (a benchmark
    # on loopback), as it refuses to start without secrets otherwise.
    env = dict(os.environ, PROXY_ACCESS_LOG="0", LOG_LEVEL="WARNING", STRANGLER_DEMO="1")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


@dataclass
class Servers:
    """Starts the servers under test; each is stopped when the run ends, whatever happens."""

    tmp: Path
    stack: ExitStack
    body: str
    python: str

    def _start(self, service: Service) -> Service:
        service.start()
        self.stack.callback(service.stop)
        return service

    def nginx(
        self, name: str, workers: int, servers: str, *, worker_connections: int | None = 4096
    ) -> Service:
        conf = self.tmp / f"{name}.conf"
        conf.write_text(
            nginx_conf(self.tmp, name, workers, servers, worker_connections=worker_connections)
        )
        argv = ["nginx", "-e", str(self.tmp / f"{name}.error.log"), "-p", f"{self.tmp}/"]
        argv += ["-c", str(conf), "-g", "daemon off;"]
        return self._start(Service(name, argv, self.tmp / f"{name}.log"))

    def backend(self, ports: list[int]) -> Service:
        return self.nginx("backend", 1, backend_servers(ports, self.body))

    def reference(
        self,
        label: str,
        workers: int,
        backend_port: int,
        *,
        name: str = "",
        worker_connections: int | None = 4096,
        client_body_buffer: str | None = None,
    ) -> Target:
        """nginx as the reference proxy; ``name`` (default ``nginx-<workers>``) names its
        files, so that several may run in one temp dir."""
        port = free_port()
        name = name or f"nginx-{workers}"
        servers = reference_proxy_servers(port, backend_port, client_body_buffer=client_body_buffer)
        service = self.nginx(name, workers, servers, worker_connections=worker_connections)
        url = f"http://127.0.0.1:{port}{BENCH_PATH}"
        wait_ready(service, url, self.body)
        return Target(label, "nginx", workers, url, service)

    def aiohttp_alone(self) -> Target:
        port = free_port()
        argv = [self.python, "-c", _AIOHTTP_ALONE, str(port), self.body]
        log = self.tmp / "aiohttp-alone.log"
        service = self._start(Service("aiohttp-alone", argv, log, env=_quiet_env()))
        url = f"http://127.0.0.1:{port}{BENCH_PATH}"
        wait_ready(service, url, self.body)
        return Target("aiohttp alone", "ceiling", 1, url, service)

    def ours(
        self,
        label: str,
        name: str,
        workers: int,
        table: str,
        *,
        profile: Path | None = None,
        source: Path = REPO,
        env: dict[str, str] | None = None,
    ) -> Target:
        """Our proxy from ``source`` (a checkout of this repository: another commit's proxy
        runs with this venv's packages), with ``env`` on top of the quiet defaults."""
        routes = self.tmp / f"{name}.routes.yaml"
        routes.write_text(table)
        port, admin = free_port(), free_port()
        env = _quiet_env() | (env or {})
        if source != REPO:
            # Ahead of the venv's editable install of this checkout.
            env["PYTHONPATH"] = str(source)
        if workers > 1:
            (self.tmp / f"{name}-metrics").mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(self.tmp / f"{name}-metrics")
        runner = ["-c", _PROFILED_PROXY, str(profile)] if profile else ["-m", "strangler.proxy"]
        argv = [self.python, *runner, "--config", str(routes)]
        argv += ["--port", str(port), "--admin-port", str(admin), "--workers", str(workers)]
        log = self.tmp / f"{name}.log"
        service = self._start(Service(name, argv, log, env=env, cwd=source))
        url = f"http://127.0.0.1:{port}{BENCH_PATH}"
        wait_ready(service, url, self.body, listeners=workers)
        return Target(label, "ours", workers, url, service, f"http://127.0.0.1:{admin}")
