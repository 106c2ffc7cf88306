"""Gunicorn's own log lines (start-up, workers, access) as JSON, like the application's.

Use with ``gunicorn -c python:strangler.servicekit.gunicorn_conf``. The access line carries
the request id from the response header the request-id middleware set, so one id finds a
request in the access log and in the application's lines alike.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn import glogging
from pythonjsonlogger.json import JsonFormatter

__all__ = ["JsonGunicornLogger"]


def _formatter() -> JsonFormatter:
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        static_fields={"service": os.environ.get("STRANGLER_SERVICE", "gunicorn")},
    )


class JsonGunicornLogger(glogging.Logger):  # type: ignore[misc]
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        formatter = _formatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.cfg.accesslog:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        request_id = next(
            (value for name, value in resp.headers if name.lower() == "x-request-id"), None
        )
        self.access_log.info(
            "%s %s %s",
            atoms["m"],
            atoms["U"],
            atoms["s"],
            extra={
                "method": atoms["m"],
                "path": atoms["U"],
                "query": atoms["q"],
                "status": atoms["s"],
                "bytes": atoms["B"],
                "duration_ms": round(request_time.total_seconds() * 1000, 3),
                "remote": atoms["h"],
                "request_id": request_id,
            },
        )
