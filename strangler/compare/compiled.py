"""Rules made ready for the hot path, and the rules that are refused.

A route's rules are merged with the defaults and compiled once; what applies to one place
in a document (``NodeRule``) is worked out the first time its key is seen and cached.

What the rules can and cannot hide, by design:

- ``ignore`` frees the *values* at and below a path: value, order and length differences
  there are not reported. A member that goes missing or appears, or a type change, is
  still reported: ignoring a volatile timestamp must not hide that the field vanished.
- ``tolerance`` applies only when both sides are numbers (or, with ``decimal: true``, both
  strings holding decimals). String against number is a ``type`` difference whatever the
  tolerance says; the difference's ``detail`` notes that the tolerance was not applied.
- ``unordered`` hides order only; items present on one side only are missing or extra.
  Items without the key member, or keys repeated on a side, fall back to positions.
- Normalisers without paths never touch critical fields.

Refused with ``RuleRefused`` (the field named, the reason given), checked on the merged set:

A rule *meets* a critical field when its path can name that field or one of its ancestors
(``results`` or ``**.price`` against ``results[].price``), or, unless the rule's path starts
with ``**``, a place inside it (``order.updated_at`` against ``order``). Inside a critical
subtree no ignore, tolerance or normaliser ever applies, whatever its path.

1. an ``ignore`` that meets a critical field;
2. a ``tolerance`` with ``absolute`` or ``relative`` above 0 that meets a critical field
   (``decimal: true`` alone is allowed there: "12.50" and "12.5" are one amount);
3. a ``normalise`` rule whose ``paths`` meet a critical field (without paths it is allowed
   and skips critical fields);
4. two ``unordered`` rules that can match the same list with different keys;
5. a header both in ``headers.compare`` and in ``headers.ignore``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from strangler.compare.errors import RuleRefused
from strangler.compare.paths import (
    DEEP,
    Glob,
    globs_overlap,
    matches,
    parse_glob,
    parse_key,
)
from strangler.compare.redact import is_secret_name
from strangler.compare.rules import (
    DEFAULT_COMPARED_HEADERS,
    DEFAULT_LINKS,
    VOLATILE_HEADERS,
    CompareRules,
)

__all__ = ["CompiledRules", "NodeRule", "RuleBook", "Tolerance"]

# Distinct keys whose NodeRule is cached per route: an API route has tens to hundreds of
# keys; beyond this (a document with generated member names) rules are worked out each time.
NODE_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Tolerance:
    absolute: float = 0.0
    relative: float = 0.0
    decimal: bool = False


@dataclass(frozen=True, slots=True)
class NodeRule:
    ignored: bool = False
    critical: bool = False
    tolerance: Tolerance | None = None
    unordered: bool = False
    set_key: str | None = None
    normalisers: tuple[tuple[re.Pattern[str], str], ...] = ()
    link: bool = False
    secret: bool = False


@dataclass(frozen=True, slots=True)
class _Entry:
    field: str
    glob: Glob
    text: str


def _meets(rule: Glob, critical: Glob) -> bool:
    """Whether a rule's path is a critical field, one of its ancestors, or (for a rule not
    starting with ``**``) a place inside one. A rule starting with ``**`` is generic: it may
    name a critical field directly, but inside a critical subtree it simply never applies."""
    if globs_overlap((*rule, DEEP), critical):
        return True
    return bool(rule) and rule[0] != DEEP and globs_overlap(rule, (*critical, DEEP))


def _entries(field: str, patterns: list[str]) -> list[_Entry]:
    return [_Entry(f"{field}[{i}]", parse_glob(p), p) for i, p in enumerate(patterns)]


class CompiledRules:
    """One route's merged rules. Raises ``RuleRefused`` for the rules listed above."""

    def __init__(self, route: CompareRules, *, source: str, defaults: CompareRules) -> None:
        sides = (("defaults", defaults), (source, route))
        self.ignore = [e for p, r in sides for e in _entries(f"{p}.ignore", r.ignore)]
        self.critical = [e for p, r in sides for e in _entries(f"{p}.critical", r.critical)]
        self.unordered = [
            (_Entry(f"{p}.unordered[{i}]", parse_glob(u.path), u.path), u.key)
            for p, r in sides
            for i, u in enumerate(r.unordered)
        ]
        self.tolerances = [
            (e, Tolerance(t.absolute, t.relative, t.decimal))
            for p, r in sides
            for i, t in enumerate(r.tolerance)
            for e in _entries(f"{p}.tolerance[{i}].paths", t.paths)
        ]
        self.normalisers: list[tuple[_Entry | None, re.Pattern[str], str]] = []
        for p, r in sides:
            for i, n in enumerate(r.normalise):
                compiled = re.compile(n.pattern)
                if n.paths is None:
                    self.normalisers.append((None, compiled, n.replace))
                for e in _entries(f"{p}.normalise[{i}].paths", n.paths or []):
                    self.normalisers.append((e, compiled, n.replace))
        links = route.links if route.links is not None else defaults.links
        self.links = [parse_glob(g) for g in (DEFAULT_LINKS if links is None else links)]
        compare = route.headers.compare or defaults.headers.compare
        compare = compare or list(DEFAULT_COMPARED_HEADERS)
        self.all_headers = compare == "all"
        self.compared_headers = frozenset() if compare == "all" else frozenset(compare)
        self.ignored_headers = frozenset(defaults.headers.ignore + route.headers.ignore)
        self.text_masks = [re.compile(m) for _, r in sides for m in r.text.mask]
        self.local_hosts = frozenset(defaults.local_hosts + route.local_hosts)
        self._nodes: dict[str, NodeRule] = {}
        self._refuse(source)

    def _refuse(self, source: str) -> None:
        for critical in self.critical:
            for ignore in self.ignore:
                if _meets(ignore.glob, critical.glob):
                    raise RuleRefused(
                        ignore.field,
                        f"ignoring {ignore.text!r} would hide differences on the critical "
                        f"field {critical.text!r} ({critical.field}); critical fields are "
                        "always compared",
                    )
            for entry, tolerance in self.tolerances:
                if (tolerance.absolute or tolerance.relative) and _meets(entry.glob, critical.glob):
                    raise RuleRefused(
                        entry.field,
                        f"a tolerance on {entry.text!r} would let the critical field "
                        f"{critical.text!r} ({critical.field}) change unreported; "
                        "'decimal: true' alone compares decimals exactly",
                    )
            for normaliser, pattern, _ in self.normalisers:
                if normaliser is not None and _meets(normaliser.glob, critical.glob):
                    raise RuleRefused(
                        normaliser.field,
                        f"normalising {normaliser.text!r} with {pattern.pattern!r} would "
                        f"rewrite the critical field {critical.text!r} ({critical.field})",
                    )
        for index, (first, first_key) in enumerate(self.unordered):
            for second, second_key in self.unordered[index + 1 :]:
                if first_key != second_key and globs_overlap(first.glob, second.glob):
                    raise RuleRefused(
                        second.field,
                        f"{second.text!r} can name the same list as {first.text!r} "
                        f"({first.field}) with another key ({second_key!r} vs {first_key!r})",
                    )
        both = self.compared_headers & self.ignored_headers
        if both:
            raise RuleRefused(
                f"{source}.headers",
                f"{', '.join(sorted(both))} both compared and ignored; keep one",
            )

    def compares_header(self, name: str) -> bool:
        """``name`` in lower case."""
        if self.all_headers:
            return name not in VOLATILE_HEADERS and name not in self.ignored_headers
        return name in self.compared_headers

    def node(self, key: str) -> NodeRule:
        rule = self._nodes.get(key)
        if rule is None:
            rule = self._work_out(key)
            if len(self._nodes) < NODE_CACHE_SIZE:
                self._nodes[key] = rule
        return rule

    def _work_out(self, key: str) -> NodeRule:
        segments = parse_key(key)
        if not segments:
            return NodeRule()
        tolerances = [t for e, t in self.tolerances if matches(e.glob, segments)]
        tolerance = None
        if tolerances:
            tolerance = Tolerance(
                max(t.absolute for t in tolerances),
                max(t.relative for t in tolerances),
                any(t.decimal for t in tolerances),
            )
        unordered = next(
            ((True, k) for e, k in self.unordered if matches(e.glob, segments)), (False, None)
        )
        # Anything under a secret name is secret: "session": {"id": ...}, "tokens": [...].
        secret = any(s[0] == "." and is_secret_name(s[1:]) for s in segments)
        return NodeRule(
            ignored=any(matches(e.glob, segments) for e in self.ignore),
            critical=any(matches(e.glob, segments) for e in self.critical),
            tolerance=tolerance,
            unordered=unordered[0],
            set_key=unordered[1],
            normalisers=tuple(
                (p, r) for e, p, r in self.normalisers if e is None or matches(e.glob, segments)
            ),
            link=any(matches(g, segments) for g in self.links),
            secret=secret,
        )


class RuleBook:
    """The default rules and each route's, compiled and checked up front, so a refused rule
    stops the process at start with the field named, never at the first request."""

    def __init__(
        self,
        defaults: CompareRules | None = None,
        routes: Mapping[str, CompareRules] | None = None,
    ) -> None:
        self.defaults = defaults or CompareRules()
        self._plain = CompiledRules(CompareRules(), source="defaults", defaults=self.defaults)
        self._routes = {
            name: CompiledRules(rules, source=f"routes.{name}", defaults=self.defaults)
            for name, rules in (routes or {}).items()
        }

    def for_route(self, route: str) -> CompiledRules:
        return self._routes.get(route, self._plain)
