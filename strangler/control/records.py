"""What the control store holds, as plain values: no database types leave the store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "LAG_AFTER_SECONDS",
    "AuditRecord",
    "FleetAck",
    "HoldsRecord",
    "ReplicaRecord",
    "TableRecord",
]

# A replica writes its row every second (HEARTBEAT_SECONDS in strangler.control.postgres);
# three missed heartbeats mean it is cut off from the store or stuck, not merely busy.
LAG_AFTER_SECONDS = 3.0


@dataclass(frozen=True)
class TableRecord:
    version: int
    text: str
    updated_at: float
    updated_by: str


@dataclass(frozen=True)
class HoldsRecord:
    version: int
    holds: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    """``{route: hold_until}`` in epoch seconds, only holds still in force when read."""


@dataclass(frozen=True)
class ReplicaRecord:
    replica: str
    admin_url: str
    public_url: str
    table_version: int
    holds_version: int
    degraded: bool
    detail: str
    started_at: float
    seen_at: float

    def lagging(self, *, now: float, table_version: int | None = None) -> str | None:
        """Why this replica is behind the store, or ``None`` when it is not."""
        silent = now - self.seen_at
        if silent > LAG_AFTER_SECONDS:
            return f"no heartbeat for {silent:.0f} s (cut off from the store, or stopped)"
        if self.degraded:
            return f"degraded: {self.detail or 'lost the store'}"
        if table_version is not None and self.table_version < table_version:
            return f"serves table version {self.table_version}, the store has {table_version}"
        return None

    def as_json(self, *, now: float, table_version: int | None = None) -> dict[str, Any]:
        return {
            "replica": self.replica,
            "admin_url": self.admin_url,
            "public_url": self.public_url,
            "table_version": self.table_version,
            "holds_version": self.holds_version,
            "degraded": self.degraded,
            "detail": self.detail,
            "started_at": self.started_at,
            "seen_at": self.seen_at,
            "lagging": self.lagging(now=now, table_version=table_version),
        }


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: float
    actor: str
    via: str
    action: str
    subject: str
    before: Any
    after: Any

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "actor": self.actor,
            "via": self.via,
            "action": self.action,
            "subject": self.subject,
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True)
class FleetAck:
    """Which members acknowledged a version (served it), and which did not in time."""

    acknowledged: tuple[str, ...]
    missing: tuple[ReplicaRecord, ...]

    @property
    def complete(self) -> bool:
        return not self.missing

    def describe_missing(self) -> str:
        return ", ".join(
            f"{r.replica} (table {r.table_version}, holds {r.holds_version})" for r in self.missing
        )
