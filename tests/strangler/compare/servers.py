"""Small real HTTP servers in threads, for the replay and CLI tests: each serves a plain
function of the request and keeps what it received."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

# What a server's handler waits for at most when told to hang: past every client timeout
# of the tests, short enough that a test's teardown is never held long.
HANG_SECONDS = 5.0


@dataclass(frozen=True)
class Received:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def path(self) -> str:
        return urlsplit(self.target).path


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: tuple[tuple[str, str], ...] = ()
    hang: bool = False  # never answer (until the server stops)


App = Callable[[Received], Answer]


@dataclass
class Server:
    url: str
    received: list[Received] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def methods(self) -> list[str]:
        with self.lock:
            return [r.method for r in self.received]


def _handler(app: App, server: Server, hold: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            received = Received(
                self.command, self.path, dict(self.headers.items()), body, time.monotonic()
            )
            with server.lock:
                server.received.append(received)
                server.in_flight += 1
                server.most_in_flight = max(server.most_in_flight, server.in_flight)
            try:
                answer = app(received)
                if hold:
                    server.stopping.wait(hold)  # service time, so requests overlap
                if answer.hang:
                    server.stopping.wait(HANG_SECONDS)
                    return
                payload = (
                    answer.body
                    if isinstance(answer.body, bytes)
                    else json.dumps(answer.body).encode()
                )
                self.send_response(answer.status)
                names = {n.lower() for n, _ in answer.headers}
                if "content-type" not in names:
                    self.send_header("Content-Type", "application/json")
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
            finally:
                with server.lock:
                    server.in_flight -= 1

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serving(app: App, *, hold: float = 0.0) -> Iterator[Server]:
    """``app`` on a free port of 127.0.0.1 until the block ends."""
    server = Server(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(app, server, hold))
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    # A short poll: shutdown() waits up to one interval.
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def product(received: Received, *, price: str = "9.99", **extra: Any) -> Answer:
    """A product detail at ``/api/v1/products/<id>/``, a 404 elsewhere."""
    parts = [p for p in received.path.split("/") if p]
    if len(parts) == 4 and parts[:3] == ["api", "v1", "products"] and parts[3].isdigit():
        return Answer(
            body={"id": int(parts[3]), "name": f"Product {parts[3]}", "price": price, **extra}
        )
    return Answer(404, {"code": "not_found", "message": "no such page"})
