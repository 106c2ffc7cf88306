"""The rules one comparison runs under: the route table's defaults, the route's own
``compare:`` section, then what the test adds (the marker, the call), each extending the
last the way a route's set extends the defaults (``strangler.compare.rules``).

A table is read and checked once per file version, with ``strangler compare``'s loader, so a
bad rule fails the test naming the file, the route and the field.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

from strangler.compare import CompareRules, RuleBook, parse_rules
from strangler.compare.captures import CaptureRecord
from strangler.compare.rulefile import RouteNamer, load_rules
from strangler.compare.rules import HeaderRules, TextRules

__all__ = ["GivenRules", "RuleTable", "extend", "load_table", "rules_of"]

# What a test may give as rules: the YAML shape as a mapping, or rules already parsed.
GivenRules = Mapping[str, object] | CompareRules | None


@dataclass(frozen=True, slots=True)
class RuleTable:
    defaults: CompareRules = field(default_factory=CompareRules)
    routes: Mapping[str, CompareRules] = field(default_factory=dict)
    namer: RouteNamer = field(default_factory=RouteNamer)

    def route_of(self, method: str, target: str) -> str:
        """The table's route for a request, else its path with ids as ``{id}``."""
        return self.namer.name(CaptureRecord(method, target))

    def book(self, route: str, *added: CompareRules) -> RuleBook:
        """``RuleRefused`` when the merged set hides a critical field."""
        merged = self.routes.get(route, CompareRules())
        for rules in added:
            merged = extend(merged, rules)
        return RuleBook(self.defaults, {route: merged})


def rules_of(given: GivenRules, *, source: str) -> CompareRules:
    """``RulesInvalid`` names ``source`` and the field."""
    if isinstance(given, CompareRules):
        return given
    return parse_rules(None if given is None else dict(given), source=source)


def extend(first: CompareRules, then: CompareRules) -> CompareRules:
    """``then`` on top of ``first``: lists added together, ``headers.compare`` and
    ``links`` replaced when ``then`` gives them."""
    return CompareRules(
        ignore=first.ignore + then.ignore,
        critical=first.critical + then.critical,
        unordered=first.unordered + then.unordered,
        tolerance=first.tolerance + then.tolerance,
        normalise=first.normalise + then.normalise,
        headers=HeaderRules(
            compare=then.headers.compare or first.headers.compare,
            ignore=first.headers.ignore + then.headers.ignore,
        ),
        text=TextRules(mask=first.text.mask + then.text.mask),
        links=then.links if then.links is not None else first.links,
        local_hosts=first.local_hosts + then.local_hosts,
    )


def load_table(path: Path | None) -> RuleTable:
    """``RulesInvalid`` or ``RuleRefused`` naming the file when the table is wrong."""
    if path is None:
        return RuleTable()
    stamp = path.stat().st_mtime_ns if path.exists() else 0
    return _load(path.resolve(), stamp)


@functools.lru_cache(maxsize=8)
def _load(path: Path, _stamp: int) -> RuleTable:
    book, namer = load_rules(path)
    # load_rules has checked every section; only the routes' own sets are read again here.
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    routes = {
        str(entry["name"]): parse_rules(entry["compare"], source=f"{path}: {entry['name']}")
        for entry in data.get("routes") or []
        if "compare" in entry
    }
    return RuleTable(book.defaults, routes, namer)
