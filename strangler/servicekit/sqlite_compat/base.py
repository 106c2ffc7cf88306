"""The backend itself; see the package's docstring."""

from __future__ import annotations

import sqlite3
from typing import Any

from django.db.backends.sqlite3 import base

__all__ = ["DatabaseWrapper"]

_MODES = ("DEFERRED", "EXCLUSIVE", "IMMEDIATE")


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's SQLite wrapper, plus ``transaction_mode`` and ``init_command``."""

    def get_connection_params(self) -> dict[str, Any]:
        options = dict(self.settings_dict["OPTIONS"])
        mode = str(options.pop("transaction_mode", "") or "").upper()
        if mode and mode not in _MODES:
            raise ValueError(f"OPTIONS transaction_mode={mode!r}: expected one of {_MODES}")
        self._transaction_mode = mode or None
        self._init_command = options.pop("init_command", None)
        saved = self.settings_dict["OPTIONS"]
        self.settings_dict["OPTIONS"] = options
        try:
            return dict(super().get_connection_params())
        finally:
            self.settings_dict["OPTIONS"] = saved

    def get_new_connection(self, conn_params: dict[str, Any]) -> sqlite3.Connection:
        connection: sqlite3.Connection = super().get_new_connection(conn_params)
        for statement in str(self._init_command or "").split(";"):
            if statement.strip():
                connection.execute(statement)
        return connection

    def _start_transaction_under_autocommit(self) -> None:
        self.cursor().execute(f"BEGIN {self._transaction_mode or 'DEFERRED'}")
