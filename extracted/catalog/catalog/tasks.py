"""The catalog service's Celery tasks. The data sync adds its own from ``strangler.sync``."""

from __future__ import annotations

from celery import shared_task

__all__ = ["ping"]


@shared_task(name="catalog.ping")
def ping(value: str = "pong") -> str:
    """A trivial task: proves a worker takes tasks from the configured broker."""
    return value
