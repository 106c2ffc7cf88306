"""What ``strangler init`` found for each thing the monolith needs, and what it would do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from strangler.scaffold.init_source import Edit

__all__ = ["Item", "Status"]


class Status(Enum):
    PRESENT = "already present"
    ADD = "added"
    HAND = "edit by hand"


@dataclass(frozen=True)
class Item:
    """One thing the monolith needs (``what``), in the file ``relative``.

    ``ADD`` carries the ``edits`` that put it in; ``HAND`` carries ``how``: the exact lines to
    add and where (``line``), for a file ``strangler init`` cannot change safely.
    """

    what: str
    relative: str
    status: Status
    edits: tuple[Edit, ...] = ()
    line: int | None = None
    how: str = ""

    def describe(self, *, dry_run: bool = False) -> str:
        if self.status is Status.PRESENT:
            return f"already present: {self.what} ({self.relative})"
        if self.status is Status.ADD:
            verb = "would add" if dry_run else "added"
            return f"{verb}: {self.what} ({self.relative})"
        where = f"{self.relative}:{self.line}" if self.line else self.relative
        return f"edit by hand: {where}: {self.what}: {self.how}"
