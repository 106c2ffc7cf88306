"""The monolith under gunicorn, as `make up` runs it: real processes, a fresh database."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings

from tests.monolith.processes import PYTHON, free_port, python_env, running, url_answers, wait_until

pytestmark = pytest.mark.e2e

SETUP_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Server:
    url: str
    log: Path
    proc: subprocess.Popen[bytes]

    def log_entries(self) -> list[dict[str, object]]:
        entries = []
        for line in self.log.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return entries


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of its own: a SQLite file, or a fresh PostgreSQL database in the CI pass."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'monolith.sqlite3'}"
        return
    name = f"e2e_monolith_{os.getpid()}"
    admin = psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres",
        password=db["PASSWORD"] or None, autocommit=True,
    )  # fmt: skip
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Server]:
    env = python_env(DATABASE_URL=database_url, STRANGLER_SERVICE="monolith")
    for command in (["migrate", "--noinput"], ["seed_demo", "--products", "40"]):
        subprocess.run(
            [PYTHON, "-m", "monolith", *command], env=env, check=True,
            capture_output=True, timeout=SETUP_TIMEOUT_SECONDS,
        )  # fmt: skip
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    config = "python:strangler.servicekit.gunicorn_conf"
    args = [PYTHON, "-m", "gunicorn", "monolith.wsgi", "-c", config,
            "--workers", "2", "--bind", f"127.0.0.1:{port}"]  # fmt: skip
    with running(args, env=env, log=log, ready=url_answers(f"{url}/readyz")) as proc:
        yield Server(url=url, log=log, proc=proc)


def test_health_and_readiness_answer(server: Server) -> None:
    assert requests.get(f"{server.url}/healthz", timeout=5).json() == {"status": "ok"}
    assert requests.get(f"{server.url}/readyz", timeout=5).json()["status"] == "ok"


def test_the_shop_pages_and_their_stylesheet_are_served(server: Server) -> None:
    page = requests.get(f"{server.url}/", timeout=5)
    css = requests.get(f"{server.url}/static/css/store.css", timeout=5)

    assert page.status_code == 200
    assert "Storefront" in page.text
    assert css.status_code == 200
    assert "font" in css.text


def test_the_request_id_comes_back_and_is_in_the_access_log(server: Server) -> None:
    response = requests.get(
        f"{server.url}/api/v1/products/", headers={"X-Request-ID": "e2e-trace-0001"}, timeout=5
    )
    assert response.status_code == 200
    assert response.json()["count"] > 0
    assert response.headers["X-Request-ID"] == "e2e-trace-0001"

    def access_line_logged() -> bool:
        return any(
            entry.get("request_id") == "e2e-trace-0001" and entry.get("status") == "200"
            for entry in server.log_entries()
        )

    wait_until(access_line_logged, deadline=10, what="the access log line")


def test_a_demo_customer_places_an_order_over_the_api(server: Server) -> None:
    session = requests.Session()
    token = session.post(
        f"{server.url}/api/v1/auth/token/",
        json={"username": "alice", "password": "demo-password"},
        timeout=5,
    ).json()["token"]
    session.headers["Authorization"] = f"Token {token}"
    address = session.get(f"{server.url}/api/v1/me/addresses/", timeout=5).json()["results"][0]
    listing = session.get(f"{server.url}/api/v1/products/?in_stock=true", timeout=5).json()
    product = listing["results"][0]
    order = {
        "shipping_address_id": address["id"],
        "lines": [{"product_id": product["id"], "quantity": 1}],
    }

    placed = session.post(f"{server.url}/api/v1/orders/", json=order, timeout=5)

    assert placed.status_code == 201, placed.text
    after = session.get(f"{server.url}/api/v1/products/{product['id']}/", timeout=5).json()
    assert after["stock_available"] == product["stock_available"] - 1


def test_a_script_name_header_does_not_reach_the_internal_sync_views(server: Server) -> None:
    # From 127.0.0.1, where the proxy connects from: gunicorn's default trusted it to set
    # the mount point, so /x/internal/... with SCRIPT_NAME: /x was routed as /internal/...
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"GET /x/internal/sync/status HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"SCRIPT_NAME: /x\r\nConnection: close\r\n\r\n"
        )
        answer = b"".join(iter(lambda: sock.recv(65536), b""))

    assert answer.startswith(b"HTTP/1.1 404"), answer[:200]


def test_sigterm_stops_the_server_cleanly(server: Server) -> None:
    # Last in the module: it ends the shared server.
    server.proc.send_signal(signal.SIGTERM)

    assert server.proc.wait(timeout=30) == 0
