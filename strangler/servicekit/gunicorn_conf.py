"""Gunicorn settings shared by the Django services: JSON logs, access log on stdout."""

import importlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

logger_class = "strangler.servicekit.gunicorn_logging.JsonGunicornLogger"
accesslog = "-"
# A worker that does not answer within 30 s is replaced; no request of ours is that slow,
# so hitting it means a stuck worker, not a slow page.
timeout = 30
graceful_timeout = 20
# Gunicorn 24+ opens a control socket at one fixed path per user; two services (or two test
# runs) on one machine would fight over it, and nothing of ours uses it.
control_socket_disable = True
# Trust no peer's forwarding headers. gunicorn's defaults let 127.0.0.1 (where the proxy runs)
# set SCRIPT_NAME and PATH_INFO by header: `/x/internal/...` with `SCRIPT_NAME: /x` reached
# an internal view. The services need none of it: Django reads X-Forwarded-Proto itself
# (SECURE_PROXY_SSL_HEADER) and the proxy forwards the one path it routed on.
forwarded_allow_ips = ""
forwarder_headers = ""
# Headers whose names hold "_" are dropped (gunicorn's default, kept explicit): mapped to
# WSGI variables they would read the same as their "-" twins.
header_map = "drop"

# The request metrics (strangler.servicekit.request_metrics) of every worker, not just the one
# a scrape reaches: prometheus_client's multiprocess mode keeps each worker's figures in files
# under this directory and sums them when asked. It is read when prometheus_client is first
# imported, in a worker: set here, in the master, before any. A directory given by the
# deployment is emptied first (figures left by an earlier run would be counted again), so it
# must be this gunicorn's alone; else one of ours is made, and removed when gunicorn exits.
_METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_METRICS_DIR_OURS = not os.environ.get(_METRICS_DIR_VARIABLE)
if _METRICS_DIR_OURS:
    os.environ[_METRICS_DIR_VARIABLE] = tempfile.mkdtemp(prefix="strangler-metrics-")
else:
    for _stale in Path(os.environ[_METRICS_DIR_VARIABLE]).glob("*.db"):
        _stale.unlink()


def on_starting(server: Any) -> None:
    """Read the project's settings in the master, before any worker forks.

    A refusal at start-up (a missing secret: ``strangler.servicekit.secret_settings``) then
    stops gunicorn once, with its one-line message; raised in two workers at once instead, it
    makes gunicorn's halt print a traceback. Workers inherit the imported module: no second
    read. The settings are the app's ``DJANGO_SETTINGS_MODULE``, or the ``settings`` module
    beside its ``wsgi`` module (Django's project layout).
    """
    app_module = str(server.app.app_uri or "").partition(":")[0]
    package = app_module.rpartition(".")[0]
    name = os.environ.get("DJANGO_SETTINGS_MODULE") or (f"{package}.settings" if package else "")
    if name and importlib.util.find_spec(name) is not None:
        importlib.import_module(name)


def child_exit(server: Any, worker: Any) -> None:
    """A worker gone: its live gauges leave the sums (its counters stay counted)."""
    try:
        from prometheus_client import multiprocess
    except ImportError:  # a project without prometheus_client keeps no such files
        return
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    if _METRICS_DIR_OURS:
        shutil.rmtree(os.environ[_METRICS_DIR_VARIABLE], ignore_errors=True)
