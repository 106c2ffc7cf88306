"""Structured JSON logging, one object per line, each carrying the request id."""

from __future__ import annotations

from typing import Any

__all__ = ["json_logging_config"]


def json_logging_config(*, level: str = "INFO", service: str) -> dict[str, Any]:
    """A ``LOGGING`` dict for Django: JSON lines on stderr with ``request_id`` and ``service``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "strangler.servicekit.request_id.RequestIdLogFilter"},
        },
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
                "static_fields": {"service": service},
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's request logger repeats every 4xx as a warning; keep 5xx (errors) only.
            "django.request": {"level": "ERROR", "propagate": True},
            "django.db.backends": {"level": "WARNING", "propagate": True},
        },
    }
