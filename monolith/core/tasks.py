from __future__ import annotations

from celery import shared_task

__all__ = ["ping"]


@shared_task(name="monolith.core.ping")
def ping(value: str = "pong") -> str:
    """A trivial task: proves a worker takes tasks from the configured broker."""
    return value
