"""JSON log lines for the proxy, like the services'."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from strangler.proxy.settings import ProxySettings

__all__ = ["configure_logging"]


def configure_logging(settings: ProxySettings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": "proxy"},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    if not settings.access_log:
        logging.getLogger("proxy.access").setLevel(logging.WARNING)
