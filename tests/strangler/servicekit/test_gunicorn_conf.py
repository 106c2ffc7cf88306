"""The services' gunicorn settings, held by a real gunicorn process over raw sockets."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
START_DEADLINE_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _exchange(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _answers(port: int) -> bool:
    try:
        return _exchange(port, b"GET / HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 200")
    except OSError:
        return False


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """gunicorn with the services' configuration in front of an environ echo, from
    127.0.0.1: where the proxy connects from, the address gunicorn trusted by default."""
    port = _free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    args = [sys.executable, "-m", "gunicorn", "tests.strangler.servicekit.echo_wsgi:app",
            "-c", "python:strangler.servicekit.gunicorn_conf",
            "--bind", f"127.0.0.1:{port}", "--workers", "1"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "FORWARDED_ALLOW_IPS"}
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        end = time.monotonic() + START_DEADLINE_SECONDS
        while proc.poll() is None and not _answers(port) and time.monotonic() < end:
            time.sleep(0.05)
        if proc.poll() is not None or not _answers(port):
            raise AssertionError(log.read_text())
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _environ(port: int, head: bytes) -> dict[str, str]:
    answer = _exchange(port, head)
    assert answer.startswith(b"HTTP/1.1 200"), answer
    return dict(json.loads(answer.partition(b"\r\n\r\n")[2]))


def test_a_script_name_header_does_not_move_the_path(port: int) -> None:
    environ = _environ(
        port,
        b"GET /x/internal/sync/status HTTP/1.1\r\nHost: svc\r\nSCRIPT_NAME: /x\r\n"
        b"PATH_INFO: /elsewhere\r\nConnection: close\r\n\r\n",
    )

    assert environ["SCRIPT_NAME"] == ""
    assert environ["PATH_INFO"] == "/x/internal/sync/status"
    assert sorted(key for key in environ if "SCRIPT" in key or "PATH_INFO" in key) == [
        "PATH_INFO",
        "SCRIPT_NAME",
    ]


def test_a_forwarded_scheme_from_the_local_peer_is_not_trusted(port: int) -> None:
    environ = _environ(
        port,
        b"GET / HTTP/1.1\r\nHost: svc\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n",
    )

    # Django decides with SECURE_PROXY_SSL_HEADER when told to; gunicorn never does.
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["HTTP_X_FORWARDED_PROTO"] == "https"


@pytest.mark.parametrize(
    "line", [b"GET / HTTP/2.0\r\nHost: svc\r\n\r\n", b"GET / HTTP/0.9\r\n\r\n", b"GET /\r\n\r\n"]
)
def test_a_request_line_that_is_not_http_1_is_refused(port: int, line: bytes) -> None:
    answer = _exchange(port, line)

    assert answer.startswith(b"HTTP/1.1 400"), answer[:80]


def test_a_chunked_trailer_never_reaches_the_next_request_on_the_connection(port: int) -> None:
    answer = _exchange(
        port,
        b"POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\nSCRIPT-NAME: /x\r\nX-Trailer: leaked\r\n\r\n"
        b"GET /next HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
    )

    # The services' sync workers close the connection after each answer, so the pipelined
    # request is never read; were it read, it would have to arrive clean.
    environs = [
        json.loads(part.partition(b"\r\n\r\n")[2]) for part in answer.split(b"HTTP/1.1 200 OK")[1:]
    ]
    assert environs[0]["PATH_INFO"] == "/"
    for environ in environs:
        assert environ["SCRIPT_NAME"] == ""
        assert not [key for key in environ if "TRAILER" in key]
    assert [e["PATH_INFO"] for e in environs[1:]] in ([], ["/next"])
