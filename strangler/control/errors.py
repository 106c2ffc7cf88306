"""The control store's errors, each with a stable code the admin API and the CLI pass on.

StoreError                 store_error
├── StoreUrlInvalid        store_url_invalid        STRANGLER_STORE_URL is not a PostgreSQL URL
├── StoreUnavailable       store_unavailable        the database cannot be reached or failed
└── VersionConflict        table_version_conflict   another writer changed the table first
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["StoreError", "StoreUnavailable", "StoreUrlInvalid", "VersionConflict"]


class StoreError(Exception):
    code: ClassVar[str] = "store_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StoreUrlInvalid(StoreError):
    code = "store_url_invalid"


class StoreUnavailable(StoreError):
    code = "store_unavailable"


class VersionConflict(StoreError):
    code = "table_version_conflict"

    def __init__(self, message: str, *, current: int) -> None:
        super().__init__(message)
        self.current = current
