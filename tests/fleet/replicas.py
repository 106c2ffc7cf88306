"""Proxy replicas as production runs them: ``python -m strangler.proxy``, one a host.

Each replica runs inside its host's namespace with the same ports (each host has its own
address), its own copy of the seed table file, ``PROXY_REPLICA_ID`` the host's name and
``STRANGLER_STORE_URL`` naming the store through its host's store gateway, so a replica
reaches PostgreSQL exactly as far as its host's store link lets it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from tests.fleet.netns import Host

__all__ = ["ADMIN_TOKEN", "Replica", "start_replicas", "stop_replicas", "store_url_via"]

ADMIN_TOKEN = "fleet-test-admin-token-0123456789abcdef"
REPO = Path(__file__).resolve().parents[2]
PUBLIC_PORT, ADMIN_PORT = 8000, 8001
# A proxy imports and starts in a second or two; on two shared cores under the other
# suites, allow a minute before calling it stuck.
START_DEADLINE_SECONDS = 60.0
STOP_SECONDS = 20.0
# The test's own calls to a replica: it answers from memory in milliseconds; a hold's
# answer waits for the fleet's acknowledgement (FLEET_ACK_SECONDS = 5) first.
HTTP_TIMEOUT_SECONDS = 15.0


def store_url_via(url: str, gateway: str) -> str:
    """``url`` (a database on 127.0.0.1) as a host reaches it: through its store gateway."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}{gateway}:{parts.port or 5432}"))


@dataclass
class Replica:
    host: Host
    process: subprocess.Popen[bytes]
    log: Path
    http: requests.Session

    @property
    def name(self) -> str:
        return self.host.name

    @property
    def public_url(self) -> str:
        return f"http://{self.host.address}:{PUBLIC_PORT}"

    @property
    def admin_url(self) -> str:
        return f"http://{self.host.address}:{ADMIN_PORT}"

    def admin(
        self, method: str, path: str, body: object = None, *, timeout: float = HTTP_TIMEOUT_SECONDS
    ) -> requests.Response:
        return self.http.request(
            method,
            self.admin_url + path,
            json=body,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=timeout,
        )

    def routes(self) -> dict[str, Any]:
        response = self.http.get(self.admin_url + "/routes", timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    def route(self, name: str) -> dict[str, Any]:
        return next(r for r in self.routes()["routes"] if r["name"] == name)

    def metric(self, name: str) -> float | None:
        """A metric without labels from the replica's /metrics, ``None`` where absent."""
        text = self.http.get(self.admin_url + "/metrics", timeout=HTTP_TIMEOUT_SECONDS).text
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # drains its requests and leaves the fleet
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_SECONDS)
        self.http.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def start_replicas(
    hosts: Sequence[Host],
    *,
    table: Path,
    store_url: str,
    logs: Path,
    env: dict[str, str] | None = None,
) -> list[Replica]:
    """One proxy a host, all started at once; returns when every admin API answers."""
    replicas: list[Replica] = []
    for host in hosts:
        var_dir = logs / host.name
        var_dir.mkdir(parents=True, exist_ok=True)
        seed = var_dir / "routes.yaml"
        seed.write_text(table.read_text(encoding="utf-8"), encoding="utf-8")
        args = [sys.executable, "-m", "strangler.proxy", "--config", str(seed),
                "--host", host.address, "--port", str(PUBLIC_PORT),
                "--admin-port", str(ADMIN_PORT), "--workers", "1"]  # fmt: skip
        child_env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "PROXY_ADMIN_TOKEN": ADMIN_TOKEN,
            "PROXY_REPLICA_ID": host.name,
            "STRANGLER_STORE_URL": store_url_via(store_url, host.store_gateway),
            "STRANGLER_VAR_DIR": str(var_dir),
            "PROXY_ACCESS_LOG": "0",
            "PROXY_HEALTH_INTERVAL": "0.5",
            **(env or {}),
        }
        log = var_dir / "proxy.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                host.command(args), cwd=REPO, env=child_env, stdout=out, stderr=subprocess.STDOUT
            )
        replicas.append(Replica(host, process, log, requests.Session()))
    try:
        end = time.monotonic() + START_DEADLINE_SECONDS
        for replica in replicas:
            while not _answers(replica.admin_url + "/healthz"):
                if replica.process.poll() is not None or time.monotonic() > end:
                    raise AssertionError(
                        f"proxy on {replica.name} did not start:\n{replica.output()[-4000:]}"
                    )
                time.sleep(0.05)
    except BaseException:
        stop_replicas(replicas)
        raise
    return replicas


def stop_replicas(replicas: Sequence[Replica]) -> None:
    """All told at once, then waited for: each drains for a while."""
    for replica in replicas:
        if replica.process.poll() is None:
            replica.process.send_signal(signal.SIGTERM)
    for replica in replicas:
        replica.stop()
