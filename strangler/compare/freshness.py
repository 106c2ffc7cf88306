"""Freshness from the two answers' ``X-Strangler-Data-Versions`` headers (docs/sync.md,
"Freshness for comparisons").

Each side lists the sync version of every synced row its answer served, as
``<table>:<pk>=<version>,...`` (or ``*`` when there were too many to list).
``versions_from_headers`` turns the pair into the engine's ``DataVersions``: equal versions
for every row the base served mean the two sides served the same data; otherwise one of
them has not received a change yet and a difference says nothing about the candidate.
"""

from __future__ import annotations

from collections.abc import Mapping

from strangler.compare.model import DataVersions, Headers

__all__ = ["TOO_MANY", "VERSIONS_HEADER", "parse_versions", "versions_from_headers"]

VERSIONS_HEADER = "X-Strangler-Data-Versions"
TOO_MANY = "*"
# A row one side lists and the other does not: it has not arrived there at all, which is
# older than any version it could have (a row backfilled unchanged is version 0).
_ABSENT = -1


def versions_from_headers(
    base_headers: Headers | Mapping[str, str],
    candidate_headers: Headers | Mapping[str, str],
) -> DataVersions | None:
    """The freshness of the two answers, or ``None`` when the headers cannot tell.

    ``None``: a side sent no header, a malformed one, or ``*``. Otherwise the rows the base
    served are compared key by key. Where the candidate is behind (a lower version or no such
    row), the result sums the versions of those rows, so the candidate's sum is lower; where
    it is only ahead (the base served older data), the candidate's sum is higher. Either way
    it is not comparable, and ``entity`` names the first differing row and how many more.
    """
    base = parse_versions(_header(base_headers))
    candidate = parse_versions(_header(candidate_headers))
    if base is None or candidate is None:
        return None
    differing = [key for key, version in base.items() if candidate.get(key, _ABSENT) != version]
    if not differing:
        total = sum(base.values())
        return DataVersions(total, total, f"{len(base)} synced row(s)")
    entity = differing[0] + (f" and {len(differing) - 1} more" if len(differing) > 1 else "")
    behind = [key for key in differing if candidate.get(key, _ABSENT) < base[key]]
    # Behind wins over ahead: a stale candidate is the case a comparison must not blame on it.
    keys = behind or differing
    return DataVersions(
        base=sum(base[key] for key in keys),
        candidate=sum(candidate.get(key, _ABSENT) for key in keys),
        entity=entity,
    )


def parse_versions(value: str | None) -> dict[str, int] | None:
    """``key=version,...`` as a dict in header order; ``None`` for absent, ``*`` or malformed."""
    if value is None:
        return None
    value = value.strip()
    if value == TOO_MANY:
        return None
    versions: dict[str, int] = {}
    if not value:
        return versions
    for entry in value.split(","):
        key, equals, number = entry.strip().rpartition("=")
        if not equals or not key or not (number.isascii() and number.isdigit()):
            return None
        versions[key] = int(number)
    return versions


def _header(headers: Headers | Mapping[str, str]) -> str | None:
    items = headers.items() if isinstance(headers, Mapping) else headers
    wanted = VERSIONS_HEADER.lower()
    for name, value in items:
        if name.lower() == wanted:
            return value
    return None
