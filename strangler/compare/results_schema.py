"""The results' layout: their tables, the SQL each database dialect speaks, and how
signatures and examples are stored.

Counters are plain integer columns so that a flush adds to them in SQL (``count = count +
excluded.count``), never read-modify-write in Python. Signatures and examples are JSON
text: read back whole, never queried inside. The statements are written once, for SQLite,
with ``{p}`` before each table name and ``{greatest}``, ``{least}``, ``{seq}`` where the
dialects differ; ``Dialect.sql`` renders them for one database (``results_postgres`` has
PostgreSQL's tables, prefixed ``strangler_compare_`` beside the store's other tables).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from strangler.compare.model import Difference, DiffKind, Signature
from strangler.compare.state import ClusterExample

__all__ = [
    "ADD_ROUTE",
    "READ_ROUTES",
    "SCALARS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "SQLITE",
    "Dialect",
    "example_of",
    "example_text",
    "signature_of",
    "signature_text",
]

# Kept in the SQLite file's ``PRAGMA user_version`` and in PostgreSQL's
# ``strangler_compare_schema`` row; results of another version are refused whole.
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the databases in the statements of ``results_rows``."""

    name: str
    prefix: str  # before each table name
    placeholder: str  # a parameter's marker
    greatest: str  # the two-argument maximum and minimum
    least: str
    seq: str  # the column that orders examples written at the same instant

    def sql(self, template: str) -> str:
        """``template`` (SQLite's, with ``{p}``, ``{greatest}``, ``{least}``, ``{seq}``) for
        this database; rendered once per statement and dialect. A ``{rows}`` stays, for
        ``rows``."""
        return _render(template, self)

    def rows(self, *, width: int, count: int) -> str:
        """``count`` rows of ``width`` parameters, for a multi-row ``VALUES``."""
        row = f"({', '.join([self.placeholder] * width)})"
        return ", ".join([row] * count)


@cache
def _render(template: str, dialect: Dialect) -> str:
    text = template.format(
        p=dialect.prefix,
        greatest=dialect.greatest,
        least=dialect.least,
        seq=dialect.seq,
        rows="{rows}",
    )
    return text.replace("?", dialect.placeholder)


SQLITE = Dialect("sqlite", prefix="", placeholder="?", greatest="max", least="min", seq="rowid")

SCHEMA = """
CREATE TABLE routes (
    route TEXT PRIMARY KEY,
    comparisons INTEGER NOT NULL DEFAULT 0,
    base_samples INTEGER NOT NULL DEFAULT 0,
    candidate_samples INTEGER NOT NULL DEFAULT 0,
    noise_explained INTEGER NOT NULL DEFAULT 0,
    dropped_keys INTEGER NOT NULL DEFAULT 0,
    dropped_clusters INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL
);
CREATE TABLE verdicts (
    route TEXT, verdict TEXT, count INTEGER NOT NULL, PRIMARY KEY (route, verdict)
) WITHOUT ROWID;
CREATE TABLE fields (
    route TEXT, key TEXT, kind TEXT, candidate INTEGER NOT NULL, base INTEGER NOT NULL,
    candidate_self INTEGER NOT NULL, critical INTEGER NOT NULL, PRIMARY KEY (route, key, kind)
) WITHOUT ROWID;
CREATE TABLE clusters (
    route TEXT, signature TEXT, count INTEGER NOT NULL, first_seen REAL NOT NULL,
    last_seen REAL NOT NULL, PRIMARY KEY (route, signature)
) WITHOUT ROWID;
CREATE TABLE examples (route TEXT, signature TEXT, at REAL NOT NULL, example TEXT NOT NULL);
CREATE INDEX examples_by_cluster ON examples (route, signature);
CREATE TABLE statuses (
    route TEXT, base TEXT, candidate TEXT, count INTEGER NOT NULL,
    PRIMARY KEY (route, base, candidate)
) WITHOUT ROWID;
CREATE TABLE latency (
    route TEXT, side TEXT, bucket INTEGER, count INTEGER NOT NULL,
    PRIMARY KEY (route, side, bucket)
) WITHOUT ROWID;
CREATE TABLE latency_totals (
    route TEXT, side TEXT, count INTEGER NOT NULL, total_seconds REAL NOT NULL,
    PRIMARY KEY (route, side)
) WITHOUT ROWID;
"""
SCALARS = (
    "comparisons",
    "base_samples",
    "candidate_samples",
    "noise_explained",
    "dropped_keys",
    "dropped_clusters",
)
ADD_ROUTE = """
INSERT INTO {p}routes (route, comparisons, base_samples, candidate_samples, noise_explained,
                       dropped_keys, dropped_clusters, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (route) DO UPDATE SET
    comparisons = {p}routes.comparisons + excluded.comparisons,
    base_samples = {p}routes.base_samples + excluded.base_samples,
    candidate_samples = {p}routes.candidate_samples + excluded.candidate_samples,
    noise_explained = {p}routes.noise_explained + excluded.noise_explained,
    dropped_keys = {p}routes.dropped_keys + excluded.dropped_keys,
    dropped_clusters = {p}routes.dropped_clusters + excluded.dropped_clusters,
    updated_at = excluded.updated_at
"""
READ_ROUTES = """
SELECT route, comparisons, base_samples, candidate_samples, noise_explained, dropped_keys,
       dropped_clusters
FROM {p}routes
"""


def signature_text(signature: Signature) -> str:
    return json.dumps([list(pair) for pair in signature], ensure_ascii=False)


def signature_of(text: str) -> Signature:
    return tuple((str(key), str(kind)) for key, kind in json.loads(text))


def example_text(example: ClusterExample) -> str:
    data = {
        "at": example.at,
        "method": example.method,
        "target": example.target,
        "curl": example.curl,
        "base_status": example.base_status,
        "candidate_status": example.candidate_status,
        "differences": [
            {
                "path": d.path,
                "key": d.key,
                "kind": d.kind.value,
                "base": d.base,
                "candidate": d.candidate,
                "critical": d.critical,
                "detail": d.detail,
            }
            for d in example.differences
        ],
    }
    return json.dumps(data, ensure_ascii=False)


def example_of(text: str) -> ClusterExample:
    data: dict[str, Any] = json.loads(text)
    return ClusterExample(
        at=float(data["at"]),
        method=data["method"],
        target=data["target"],
        curl=data["curl"],
        base_status=int(data["base_status"]),
        candidate_status=data["candidate_status"],
        differences=tuple(
            Difference(
                path=d["path"],
                key=d["key"],
                kind=DiffKind(d["kind"]),
                base=d["base"],
                candidate=d["candidate"],
                critical=bool(d["critical"]),
                detail=d["detail"],
            )
            for d in data["differences"]
        ),
    )
