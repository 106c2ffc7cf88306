"""What ``strangler init`` and ``strangler extract`` put in the team's ``stack.yaml``.

The shape of the repository's own ``stack.yaml`` for the storefront: each Django project as
gunicorn (``strangler.servicekit.gunicorn_conf``), a Celery worker and a beat for its sync,
and the proxy in front; every port a variable with a default, so the whole stack moves
with the environment (``PROXY_PORT``, ``PROXY_ADMIN_PORT``, ``MONOLITH_PORT`` and
``<SERVICE>_PORT``, the names the route table and the plan read too).
"""

from __future__ import annotations

from strangler.scaffold.stack_file import StackAddition

__all__ = ["MONOLITH_PORT", "monolith_stack", "service_stack"]

# The variable and default the monolith's URL is written with, in the route table
# (`strangler routes from-urlconf --upstream-url`), the plan and the stack alike.
MONOLITH_PORT = ("MONOLITH_PORT", "8100")
_WORKER_FLAGS = (
    "--loglevel INFO --concurrency 1 --without-mingle --without-gossip --without-heartbeat"
)


def monolith_stack(package: str, *, routes_file: str = "routes.yaml") -> StackAddition:
    """The monolith (``package`` is its project package: ``<package>.wsgi``, the Celery
    app ``init`` wrote) run from its own directory, its migrations, and the proxy."""
    port, default = MONOLITH_PORT
    return StackAddition(
        env={"PROXY_PORT": "8000", "PROXY_ADMIN_PORT": "8001", port: default},
        setup=[("migrate the monolith", "python manage.py migrate --noinput")],
        processes={
            "monolith": {
                "run": f"gunicorn {package}.wsgi -c python:strangler.servicekit.gunicorn_conf "
                f'--bind "127.0.0.1:${port}" --workers 2',
                "port": f"${{{port}}}",
                "ready": f"http://127.0.0.1:${{{port}}}/readyz",
                "env": {"STRANGLER_SERVICE": "monolith"},
            },
            "monolith-worker": {
                "run": f"celery -A {package} worker {_WORKER_FLAGS} --hostname monolith@%h"
            },
            "monolith-beat": {
                "run": f"celery -A {package} beat --loglevel INFO "
                '--schedule "${STRANGLER_VAR_DIR:-var}/monolith-beat"'
            },
            "proxy": {
                "run": f"python -m strangler.proxy --config {routes_file}",
                "port": "${PROXY_PORT}",
                "ready": "http://127.0.0.1:${PROXY_PORT}/readyz",
            },
        },
    )


def service_stack(service: str, directory: str, port: str) -> StackAddition:
    """An extracted service in ``directory`` (relative to the stack file's), listening on
    ``$port`` (the variable its route table entry and plan name, default 8200)."""
    return StackAddition(
        env={port: "8200"},
        setup=[
            (f"migrate the {service} service", f"python {directory}/manage.py migrate --noinput")
        ],
        processes={
            service: {
                "run": f"gunicorn {service}.wsgi --chdir {directory} "
                f'-c python:strangler.servicekit.gunicorn_conf --bind "127.0.0.1:${port}" '
                "--workers 2",
                "port": f"${{{port}}}",
                "ready": f"http://127.0.0.1:${{{port}}}/readyz",
                "env": {"STRANGLER_SERVICE": service},
            },
            f"{service}-worker": {
                "run": f"celery --workdir {directory} -A {service} worker {_WORKER_FLAGS} "
                f"--hostname {service}@%h"
            },
            f"{service}-beat": {
                "run": f"celery --workdir {directory} -A {service} beat --loglevel INFO "
                f'--schedule "${{STRANGLER_VAR_DIR:-var}}/{service}-beat"'
            },
        },
    )
