"""The results tests run on both databases: the SQLite file and PostgreSQL (``postgres``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from strangler.compare import StoreLimits
from strangler.compare.results import ResultsLocation, ResultsStore, StoreUrl

from .postgres import fresh_database


@dataclass(frozen=True)
class Backend:
    name: str  # "sqlite" or "postgres"
    location: ResultsLocation

    @property
    def argument(self) -> str:
        """The location on a command line (``workers.py``): the file's path or the URL."""
        return self.location.url if isinstance(self.location, StoreUrl) else str(self.location)

    def open(self, *, create: bool = True, limits: StoreLimits | None = None) -> ResultsStore:
        return ResultsStore(self.location, create=create, limits=limits)


@pytest.fixture
def postgres_results() -> Iterator:
    """A StoreUrl of an empty PostgreSQL database of this test's own."""
    with fresh_database("compare") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def results_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", tmp_path / "results.sqlite3")
        return
    with fresh_database("compare") as url:
        yield Backend("postgres", url)
