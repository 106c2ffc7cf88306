"""Start and stop real server processes for end-to-end tests, waiting on conditions."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
START_DEADLINE_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], *, deadline: float, what: str) -> None:
    """Poll ``condition`` until it holds or ``deadline`` seconds pass (then fail, naming it)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {deadline}s waiting for {what}")


def url_answers(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return requests.get(url, timeout=1).status_code == 200
        except requests.RequestException:  # not listening yet, or still starting workers
            return False

    return check


@contextlib.contextmanager
def running(
    args: list[str], *, env: dict[str, str], log: Path, ready: Callable[[], bool] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` (stdout and stderr to ``log``) until the block ends, then stop it."""
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        if ready is not None:
            wait_until(
                lambda: proc.poll() is not None or ready(),
                deadline=START_DEADLINE_SECONDS,
                what=" ".join(args[:4]),
            )
            if proc.poll() is not None:
                raise AssertionError(f"{args[:4]} exited early:\n{log.read_text()[-4000:]}")
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def python_env(**overrides: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **overrides}
    env.setdefault("DJANGO_SETTINGS_MODULE", "monolith.settings")
    return env


# What a deployment sets (strangler/servicekit/secret_settings.py): outside demo mode every
# process refuses to start without them.
SECRET_VARIABLES = (
    "DJANGO_SECRET_KEY", "STRANGLER_IDENTITY_SECRET", "STRANGLER_SYNC_SECRET", "PROXY_ADMIN_TOKEN",
)  # fmt: skip


def deployment_env(**overrides: str) -> dict[str, str]:
    """``python_env`` outside demo mode, each secret a fresh random value unless overridden."""
    env = python_env()
    env.pop("STRANGLER_DEMO", None)
    env.pop("STRANGLER_SYNC_METRICS_TOKEN", None)
    env.update({name: secrets.token_urlsafe(32) for name in SECRET_VARIABLES})
    env.update(overrides)
    return env


PYTHON = sys.executable
