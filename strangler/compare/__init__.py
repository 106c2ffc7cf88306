"""The comparison engine: two answers to one request, canonicalised, then diffed under a
route's rules, with noise told apart from real differences and differences clustered.

Pure Python (no Django, no aiohttp), so the proxy's shadow mode and the offline replay
share it. Start at ``CompareEngine``; rules come from ``parse_rules`` and ``RuleBook``.
Around it, each in its own module: ``captures`` (the record format, reading requests
files) and ``capture_writer`` (what the proxy records), ``replay`` (offline, aiohttp),
``results`` (the shared SQLite results file and ``route_totals`` for the plan gates),
``rulefile`` (rules and routes from a YAML file) and ``reports`` (terminal, JSON, JUnit,
HTML, Prometheus).
"""

from strangler.compare.compiled import RuleBook
from strangler.compare.engine import CompareEngine
from strangler.compare.errors import CompareError, RuleRefused, RulesInvalid
from strangler.compare.freshness import versions_from_headers
from strangler.compare.latency import LatencySummary
from strangler.compare.model import (
    CandidateFailure,
    ComparisonResult,
    DataVersions,
    Difference,
    DiffKind,
    DiscardedDifference,
    FreshnessCheck,
    Headers,
    HttpRequest,
    HttpResponse,
    Signature,
    Verdict,
    headers_of,
)
from strangler.compare.noise import FieldStats, NoiseSettings
from strangler.compare.rules import CompareRules, parse_rules
from strangler.compare.store import (
    Cluster,
    ClusterExample,
    RouteReport,
    RouteTotals,
    StoreLimits,
)

__all__ = [
    "CandidateFailure",
    "Cluster",
    "ClusterExample",
    "CompareEngine",
    "CompareError",
    "CompareRules",
    "ComparisonResult",
    "DataVersions",
    "DiffKind",
    "Difference",
    "DiscardedDifference",
    "FieldStats",
    "FreshnessCheck",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "LatencySummary",
    "NoiseSettings",
    "RouteReport",
    "RouteTotals",
    "RuleBook",
    "RuleRefused",
    "RulesInvalid",
    "Signature",
    "StoreLimits",
    "Verdict",
    "headers_of",
    "parse_rules",
    "versions_from_headers",
]
