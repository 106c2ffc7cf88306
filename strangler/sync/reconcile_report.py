"""What a reconcile found and did: each difference with its label, and the run's report.

``ReconcileReport.as_json()`` is the JSON report ``sync_reconcile --json`` prints, the plan's
gates read and ``strangler_sync_reconcile`` keeps.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from strangler.sync.checksums import Level
from strangler.sync.runs import ReconcileRun

__all__ = ["MAX_REPORTED", "Difference", "Label", "ReconcileReport"]

Label = Literal["diverged", "in_flight", "converged"]
# Differences listed one by one in the JSON report; the counts always cover them all.
MAX_REPORTED = 10_000


@dataclass(frozen=True)
class Difference:
    """One key that differed, how, and what it turned out to be."""

    pk: str
    kind: str  # missing (on the peer) | extra (on the peer) | version | content
    label: Label
    first_label: Label
    source_version: int
    peer_version: int
    columns: tuple[str, ...] = ()
    repaired_version: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "pk": self.pk,
            "kind": self.kind,
            "label": self.label,
            "first_label": self.first_label,
            "source_version": self.source_version,
            "peer_version": self.peer_version,
            "columns": list(self.columns),
            "repaired_version": self.repaired_version,
        }


@dataclass(frozen=True)
class ReconcileReport:
    node: str
    peer: str
    table: str
    level: Level
    started_at: dt.datetime
    seconds: float
    rows_source: int
    rows_peer: int
    rounds: int
    segments_checked: int
    rows_fetched: int
    algorithm: str = "md5"
    key_order: str = "native"  # how both sides ordered the keys (``keys``)
    differences: tuple[Difference, ...] = ()
    repaired: int = 0
    repair_stale: int = 0
    run_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    preferred: str = ""  # the node whose copy a repair kept; empty without repair

    @property
    def diverged(self) -> int:
        return sum(
            1 for d in self.differences if d.label == "diverged" and d.repaired_version is None
        )

    @property
    def state(self) -> str:
        if self.diverged:
            return ReconcileRun.State.DIVERGED
        if self.repaired:
            return ReconcileRun.State.REPAIRED
        return ReconcileRun.State.CLEAN

    def as_json(self) -> dict[str, Any]:
        labels: dict[str, int] = {"diverged": 0, "in_flight": 0, "converged": 0}
        for difference in self.differences:
            labels[difference.label] += 1
        listed = self.differences[:MAX_REPORTED]
        return {
            "node": self.node,
            "peer": self.peer,
            "table": self.table,
            "level": self.level,
            "state": str(self.state),
            "started_at": self.started_at.isoformat(),
            "seconds": round(self.seconds, 3),
            "rows": {"source": self.rows_source, "peer": self.rows_peer},
            "rows_per_second": round(max(self.rows_source, self.rows_peer) / self.seconds)
            if self.seconds > 0
            else None,
            "search": {
                "hash": self.algorithm,
                "key_order": self.key_order,
                "rounds": self.rounds,
                "segments_checked": self.segments_checked,
                "rows_fetched": self.rows_fetched,
            },
            "labels": labels,
            "repaired": self.repaired,
            "repair_stale": self.repair_stale,
            "preferred": self.preferred or None,
            "differences": [d.as_json() for d in listed],
            "differences_truncated": len(self.differences) > len(listed),
        }
