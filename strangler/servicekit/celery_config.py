"""Celery broker and result backend from the environment, with an embedded default.

The default needs no server: a file-system transport (kombu's, with every file written
whole: ``strangler.servicekit.file_broker``) carries messages between processes on one
machine through a spool directory, and results go to files beside it.
``CELERY_BROKER_URL=redis://...`` or ``amqp://...`` selects a real broker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strangler.servicekit.file_broker import TRANSPORT_PATH

__all__ = ["CelerySettings", "celery_settings"]

# The file-system transport polls its spool; 0.1 s keeps a nudge's delivery well under a
# second while costing a few stat() calls a second per idle worker.
FILESYSTEM_POLLING_INTERVAL_SECONDS = 0.1


@dataclass(frozen=True)
class CelerySettings:
    broker_url: str
    result_backend: str
    broker_transport_options: dict[str, Any] = field(default_factory=dict)
    broker_transport: str | None = None
    """A transport class that overrides the URL's scheme (the embedded broker's), else None."""


def celery_settings(*, broker_url: str, result_backend: str, var_dir: Path) -> CelerySettings:
    if not broker_url or broker_url.startswith("filesystem://"):
        spool = var_dir / "broker"
        for sub in ("queue", "processed", "control"):
            (spool / sub).mkdir(parents=True, exist_ok=True)
        results = var_dir / "results"
        results.mkdir(parents=True, exist_ok=True)
        return CelerySettings(
            broker_url="filesystem://",
            broker_transport=TRANSPORT_PATH,
            result_backend=result_backend or f"file://{results}",
            broker_transport_options={
                "data_folder_in": str(spool / "queue"),
                "data_folder_out": str(spool / "queue"),
                "processed_folder": str(spool / "processed"),
                # Exchanges and fanout bindings; without it kombu writes ./control in the cwd.
                "control_folder": str(spool / "control"),
                "store_processed": False,
                "polling_interval": FILESYSTEM_POLLING_INTERVAL_SECONDS,
            },
        )
    if not result_backend:
        result_backend = (
            broker_url if broker_url.startswith(("redis://", "rediss://")) else "rpc://"
        )
    return CelerySettings(broker_url=broker_url, result_backend=result_backend)
