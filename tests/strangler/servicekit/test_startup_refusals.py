"""The Django projects as real processes: outside demo mode, no start without usable secrets.

Each process is what a deployment runs (``check --deploy``, gunicorn, a Celery worker) with
``DJANGO_DEBUG=false`` and an environment holding nothing but what the test gives it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from strangler.servicekit.secret_settings import EXIT_REFUSED
from tests.monolith.processes import (
    PYTHON,
    REPO,
    deployment_env,
    free_port,
    running,
    url_answers,
)

# A refusal comes before Django has loaded an app: seconds, even on a loaded machine.
REFUSAL_TIMEOUT_SECONDS = 60
PROJECTS = {"monolith": "monolith", "catalog": "extracted.catalog"}
# As stack.yaml, docker-compose.yml and deploy/k8s run it: the shared configuration reads the
# settings in gunicorn's master, so a refusal stops it once, before any worker forks.
GUNICORN = [PYTHON, "-m", "gunicorn", "-c", "python:strangler.servicekit.gunicorn_conf"]
UNUSABLE = {
    "missing": None,
    "empty": "",
    "short": "s3cret-but-only-26-letters",
    "published": "insecure-demo-sync-secret",
}


def env_for(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    env = deployment_env(STRANGLER_VAR_DIR=str(tmp_path), DJANGO_DEBUG="false")
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CATALOG_DATABASE_URL"):
        env.pop(name, None)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=env, cwd=REPO, capture_output=True, text=True,
        timeout=REFUSAL_TIMEOUT_SECONDS, check=False,
    )  # fmt: skip


def assert_refused(done: subprocess.CompletedProcess[str], variable: str) -> None:
    assert done.returncode == EXIT_REFUSED, done.stderr[-2000:]
    assert f"refusing to start: {variable} " in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize("project", PROJECTS)
@pytest.mark.parametrize("variable", ["DJANGO_SECRET_KEY", "STRANGLER_IDENTITY_SECRET",
                                      "STRANGLER_SYNC_SECRET"])  # fmt: skip
def test_check_deploy_refuses_a_missing_secret_naming_it(
    tmp_path: Path, project: str, variable: str
) -> None:
    done = run([PYTHON, "-m", PROJECTS[project], "check", "--deploy"],
               env_for(tmp_path, **{variable: None}))  # fmt: skip

    assert_refused(done, variable)


@pytest.mark.parametrize("project", PROJECTS)
@pytest.mark.parametrize("kind", UNUSABLE)
def test_gunicorn_refuses_an_unusable_sync_secret_and_stops(
    tmp_path: Path, project: str, kind: str
) -> None:
    args = [*GUNICORN, f"{PROJECTS[project]}.wsgi", "--workers", "2",
            "--bind", f"127.0.0.1:{free_port()}"]  # fmt: skip

    done = run(args, env_for(tmp_path, STRANGLER_SYNC_SECRET=UNUSABLE[kind]))

    assert_refused(done, "STRANGLER_SYNC_SECRET")


def test_a_celery_worker_refuses_a_published_identity_secret(tmp_path: Path) -> None:
    args = [PYTHON, "-m", "celery", "-A", "monolith", "worker", "--concurrency", "1"]

    done = run(args, env_for(tmp_path, STRANGLER_IDENTITY_SECRET="insecure-demo-identity-secret"))

    assert_refused(done, "STRANGLER_IDENTITY_SECRET")


def test_an_unusable_metrics_token_is_refused_when_one_is_set(tmp_path: Path) -> None:
    done = run([PYTHON, "-m", "extracted.catalog", "check"],
               env_for(tmp_path, STRANGLER_SYNC_METRICS_TOKEN="prometheus"))  # fmt: skip

    assert_refused(done, "STRANGLER_SYNC_METRICS_TOKEN")


@pytest.mark.parametrize("project", PROJECTS)
def test_the_demo_switch_starts_with_no_secret_set(tmp_path: Path, project: str) -> None:
    env = env_for(tmp_path, STRANGLER_DEMO="1", DJANGO_SECRET_KEY=None,
                  STRANGLER_IDENTITY_SECRET=None, STRANGLER_SYNC_SECRET=None)  # fmt: skip

    done = run([PYTHON, "-m", PROJECTS[project], "check"], env)

    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("project", PROJECTS)
def test_gunicorn_serves_with_strong_secrets_and_no_demo_switch(
    tmp_path: Path, project: str
) -> None:
    port = free_port()
    args = [*GUNICORN, f"{PROJECTS[project]}.wsgi", "--workers", "2",
            "--bind", f"127.0.0.1:{port}"]  # fmt: skip

    with running(args, env=env_for(tmp_path), log=tmp_path / "gunicorn.log",
                 ready=url_answers(f"http://127.0.0.1:{port}/healthz")) as proc:  # fmt: skip
        assert proc.poll() is None
