"""A place in a stream: ``(xid, seq)`` of a changelog row, ordered as the relay reads them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["START", "Position"]


@dataclass(frozen=True, order=True)
class Position:
    """``xid`` is the writing transaction's id (0 on SQLite), ``seq`` the changelog row's id.

    Tuple order is the order the relay reads in (docs/sync.md, "Relay"): on PostgreSQL only
    transactions below the snapshot's xmin are read, so nothing can later appear before a
    position the receiver has passed.
    """

    xid: int
    seq: int

    def as_json(self) -> list[int]:
        return [self.xid, self.seq]

    @classmethod
    def from_json(cls, value: Any) -> Position | None:
        """The position in ``value`` (``[xid, seq]``), or ``None`` when it is not one."""
        if (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(part, int) and not isinstance(part, bool) for part in value)
            and all(part >= 0 for part in value)
        ):
            return cls(xid=value[0], seq=value[1])
        return None

    def __str__(self) -> str:
        return f"[{self.xid}, {self.seq}]"


START = Position(xid=0, seq=0)
