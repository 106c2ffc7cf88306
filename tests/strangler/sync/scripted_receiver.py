"""A scripted HTTP server on a real socket, standing in for a sync node: the answers to give,
in order, and the requests it received. No Django: the plans' tests use it too.

Not in ``conftest.py``: the plans' tests, in another folder and suite, use it too. Test modules
import ``receiver`` (and ``Script``) from here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

__all__ = ["Script", "receiver"]


@dataclass
class Script:
    """Answers to give, in order (the last one repeats), and the requests received."""

    answers: list[tuple[int, Any]]
    received: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[tuple[str, Script]]:
    script = Script(answers=[])

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            script.received.append((self.command, self.path, dict(self.headers), body))
            status, payload = (
                script.answers.pop(0) if len(script.answers) > 1 else script.answers[0]
            )
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", script
    finally:
        server.shutdown()
        server.server_close()
