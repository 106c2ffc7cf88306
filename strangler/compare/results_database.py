"""Where comparison results are kept: one seam in front of two databases.

``ResultsStore`` speaks to a ``ResultsDatabase``: a SQLite file (``results_sqlite``, the
embedded default for one host) or PostgreSQL (``results_postgres``, when
``STRANGLER_STORE_URL`` names one, so that every proxy replica on every host, the CLI and
the plans add to and read the same rows). A database connects, creates or checks its
schema when opened, and lends a cursor inside one write transaction (``writing``) or one
read snapshot (``reading``); its driver's errors come out as ``ResultsError`` naming where.

ResultsError (CompareError)      the results cannot be opened, read or written
├── ResultsMissing               nothing recorded where results were to be read
└── StoreUrlInvalid              ``STRANGLER_STORE_URL`` names no database this reads
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from urllib.parse import urlsplit

from strangler.compare.errors import CompareError
from strangler.compare.results_rows import Cursor
from strangler.compare.results_schema import Dialect
from strangler.environment import STORE_URL_VARIABLE, describe_url
from strangler.environment import store_url as store_url_setting

__all__ = [
    "STORE_URL_VARIABLE",
    "ResultsDatabase",
    "ResultsError",
    "ResultsMissing",
    "StoreUrl",
    "StoreUrlInvalid",
    "store_url",
]

_SCHEMES = ("postgres", "postgresql")


class ResultsError(CompareError):
    """The results cannot be opened, read or written; the message names where."""


class ResultsMissing(ResultsError):
    """No results where they were to be read."""


class StoreUrlInvalid(ResultsError):
    """``STRANGLER_STORE_URL`` is set to something that is not a PostgreSQL URL."""


@dataclass(frozen=True, slots=True)
class StoreUrl:
    """A PostgreSQL URL; ``str()`` hides its password, for messages and logs."""

    url: str

    def __str__(self) -> str:
        return describe_url(self.url)


def store_url(env: Mapping[str, str] | None = None) -> StoreUrl | None:
    """``$STRANGLER_STORE_URL`` when set; ``None`` when unset or empty. Anything but a
    ``postgres://`` or ``postgresql://`` URL is refused."""
    value = store_url_setting(env)
    if value is None:
        return None
    url = StoreUrl(value)
    if urlsplit(value).scheme not in _SCHEMES:
        raise StoreUrlInvalid(
            f"{STORE_URL_VARIABLE}={url}: not a PostgreSQL URL; give "
            "postgres://USER@HOST:PORT/DATABASE, or unset it to keep the results in a file"
        )
    return url


class ResultsDatabase(ABC):
    """One open database of results. Not thread-safe: ``ResultsStore`` serialises its use."""

    dialect: Dialect
    where: str  # the file's path or the URL without its password

    @abstractmethod
    def writing(self) -> AbstractContextManager[Cursor]:
        """A cursor inside one write transaction, committed when the block ends; a driver
        error raises ``ResultsError`` ("cannot write ...") and nothing of the block is kept."""

    @abstractmethod
    def reading(self) -> AbstractContextManager[Cursor]:
        """A cursor inside one read-only snapshot: every table at one moment."""

    @abstractmethod
    def close(self) -> None: ...
