"""The system a plan runs against, for real: the proxy and two sync nodes of the test project.

``alpha`` (the legacy side) and ``beta`` (the service) are ``tests/sync_project`` under
gunicorn, each on its own SQLite database; ``python -m strangler.proxy`` serves a route table whose
routes ``widgets`` and ``parts`` move from upstream ``alpha`` to upstream ``beta``. Started
once a session: every test only reads them.

Not in ``conftest.py``: the CLI's tests in ``tests/strangler`` use it too. Test modules import
``live_system`` (and ``LiveSystem``) from here.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.monolith.processes import REPO, free_port, python_env, running, url_answers

__all__ = ["LiveSystem", "live_system", "plan_text"]

MIGRATE_TIMEOUT_SECONDS = 120
ADMIN_TOKEN = "live-plan-test-admin-token"


@dataclass(frozen=True)
class LiveSystem:
    admin_url: str
    alpha_url: str
    beta_url: str
    sync_secret: str


def plan_text(system: LiveSystem, **names: str) -> str:
    """A plan moving the widgets from alpha to beta; ``names`` override its YAML fragments:
    ``service`` (the service's key), ``service_extra``/``legacy_extra`` (more fields of the
    node entries), ``routes`` and ``models`` (flow lists)."""
    service = names.get("service", "beta")
    return f"""
name: widgets
routes: [{names.get("routes", "widgets, parts")}]
service: {service}
legacy: alpha
models: [{names.get("models", "widgets.Widget, widgets.Part")}]
nodes:
  alpha: {{url: "{system.alpha_url}", manage: "true"{names.get("legacy_extra", "")}}}
  {service}: {{url: "{system.beta_url}", manage: "true"{names.get("service_extra", "")}}}
steps:
  - kind: backfill
  - kind: shadow
  - kind: cutover
"""


def _node_env(name: str, *, var_dir: Path, peer_url: str, sync_secret: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "tests.sync_project.settings",
        "SYNC_NODE": name,
        "DATABASE_URL": f"sqlite:///{var_dir / f'{name}.sqlite3'}",
        "SYNC_PEER_URL": peer_url,
        "STRANGLER_VAR_DIR": str(var_dir),
        "STRANGLER_SYNC_SECRET": sync_secret,
    }


def _node(
    stack: ExitStack, name: str, port: int, peer_port: int, var_dir: Path, sync_secret: str
) -> str:
    """Migrate ``name``'s database and serve it under gunicorn; its URL."""
    env = _node_env(
        name, var_dir=var_dir, peer_url=f"http://127.0.0.1:{peer_port}", sync_secret=sync_secret
    )
    done = subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--noinput"], env=env, cwd=REPO,
        capture_output=True, text=True, timeout=MIGRATE_TIMEOUT_SECONDS, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "gunicorn", "tests.sync_project.wsgi", "-c",
            "python:strangler.servicekit.gunicorn_conf", "--workers", "1",
            "--bind", f"127.0.0.1:{port}"]  # fmt: skip
    stack.enter_context(
        running(args, env=env, log=var_dir / f"{name}.log", ready=url_answers(f"{url}/readyz"))
    )
    return url


def _table(alpha_url: str, beta_url: str) -> str:
    return f"""\
legacy: alpha
upstreams:
  alpha: {{url: "{alpha_url}"}}
  beta: {{url: "{beta_url}"}}
routes:
  - name: widgets
    prefix: /widgets/
    owner: beta
  - name: parts
    prefix: /parts/
    owner: beta
"""


@pytest.fixture(scope="session")
def live_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSystem]:
    var_dir = tmp_path_factory.mktemp("live-plan")
    sync_secret = secrets.token_urlsafe(32)
    alpha_port, beta_port, port, admin_port = (free_port() for _ in range(4))
    with ExitStack() as stack:
        alpha_url = _node(stack, "alpha", alpha_port, beta_port, var_dir, sync_secret)
        beta_url = _node(stack, "beta", beta_port, alpha_port, var_dir, sync_secret)
        config = var_dir / "routes.yaml"
        config.write_text(_table(alpha_url, beta_url), encoding="utf-8")
        admin_url = f"http://127.0.0.1:{admin_port}"
        args = [sys.executable, "-m", "strangler.proxy", "--config", str(config),
                "--port", str(port), "--admin-port", str(admin_port)]  # fmt: skip
        stack.enter_context(
            running(
                args,
                env=python_env(PROXY_ADMIN_TOKEN=ADMIN_TOKEN, PROXY_WORKERS="1"),
                log=var_dir / "proxy.log",
                ready=url_answers(f"{admin_url}/healthz"),
            )
        )
        yield LiveSystem(admin_url, alpha_url, beta_url, sync_secret)
