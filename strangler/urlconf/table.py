"""The URLconf's patterns (as :mod:`strangler.urlconf.export` prints them) as a route table:
one route per pattern, or one per app prefix, every route in mode ``monolith``.

Per pattern, a route's name is the pattern's URL name (namespaced, ``:`` as ``.``) or its
view's dotted name. Per app, a pattern goes into its app's prefix route when some prefix of
its literal text (cut at a ``/``) holds only that app's patterns and no pattern reaching into
it from a shorter one; the shortest such prefix is the route's, named ``<app>-<last segment>``.
A pattern with no such prefix keeps a route of its own.

Patterns under the table's internal prefixes get no route (the proxy never serves them), nor
do patterns Django never reaches (``shadowed_by``) or that the proxy cannot express at all
(left to the legacy route). Two patterns the proxy would read as the same share one route.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "INTERNAL_PREFIXES",
    "Outcome",
    "Pattern",
    "Route",
    "UrlconfTable",
    "build_table",
    "parse_patterns",
    "table_yaml",
]

# The proxy's default internal_prefixes (strangler/proxy/config.py): never served to clients.
INTERNAL_PREFIXES = ("/internal/",)
# A route name as the proxy accepts it (strangler/proxy/route_config.py): at most 63 chars.
_NAME_LENGTH = 63
_NAME_INVALID = re.compile(r"[^a-z0-9_.-]+")
_PARAMETER = re.compile(r"<([a-z]+):[^>]+>")
# Route names and patterns YAML reads back as the same string when written plain.
_PLAIN = re.compile(r"^[a-z0-9/][A-Za-z0-9/_.<>:-]*$")

Per = Literal["pattern", "app"]


@dataclass(frozen=True)
class Pattern:
    """One URL pattern as the export printed it."""

    index: int
    django_route: str
    view: str
    url_name: str | None
    app: str
    kind: Literal["path", "prefix", "legacy"]
    pattern: str | None
    exactness: Literal["exact", "approximated", "widened", "legacy"]
    notes: tuple[str, ...]
    head: str
    shadowed_by: str | None
    # For a prefix: (path under it, index of the pattern Django answers it with instead).
    probes: tuple[tuple[str, int], ...] = ()

    def summary(self) -> dict[str, Any]:
        return {
            "django_route": self.django_route,
            "view": self.view,
            "url_name": self.url_name,
            "exactness": self.exactness,
        }

    def label(self) -> str:
        return f"{self.django_route or '(root)'} ({self.url_name or self.view})"


@dataclass
class Route:
    name: str
    kind: Literal["path", "prefix"]
    pattern: str
    app: str
    patterns: list[Pattern] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "pattern": self.pattern,
            "app": self.app,
            "patterns": [pattern.summary() for pattern in self.patterns],
        }


@dataclass(frozen=True)
class Outcome:
    """What became of a pattern the proxy cannot route exactly as Django does."""

    pattern: Pattern
    outcome: str
    route: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            **self.pattern.summary(),
            "outcome": self.outcome,
            "route": self.route,
            "notes": list(self.pattern.notes),
        }

    def line(self) -> str:
        notes = "; ".join(self.pattern.notes)
        return f"{self.pattern.label()}: {self.outcome}" + (f" ({notes})" if notes else "")


@dataclass(frozen=True)
class UrlconfTable:
    routes: list[Route]
    outcomes: list[Outcome]
    patterns: int

    def report(self) -> dict[str, Any]:
        return {
            "patterns": self.patterns,
            "routes": [route.as_json() for route in self.routes],
            "inexpressible": [outcome.as_json() for outcome in self.outcomes],
        }


def parse_patterns(document: Any) -> list[Pattern]:
    """The export's JSON; ``ValueError`` when it is not what the export prints."""
    if not isinstance(document, dict) or not isinstance(document.get("patterns"), list):
        raise ValueError("no 'patterns' list")
    try:
        return [
            Pattern(
                index=int(entry["index"]),
                django_route=str(entry["django_route"]),
                view=str(entry["view"]),
                url_name=entry["url_name"],
                app=str(entry["app"]),
                kind=entry["kind"],
                pattern=entry["pattern"],
                exactness=entry["exactness"],
                notes=tuple(entry["notes"]),
                head=str(entry["head"]),
                shadowed_by=entry["shadowed_by"],
                probes=tuple(
                    (str(probe["path"]), int(probe["answered_by"]))
                    for probe in entry.get("probes", [])
                ),
            )
            for entry in document["patterns"]
        ]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"a pattern without {exc}") from exc


def build_table(patterns: Sequence[Pattern], *, per: Per) -> UrlconfTable:
    outcomes: list[Outcome] = []
    candidates: list[Pattern] = []
    for pattern in patterns:
        if pattern.head.startswith(INTERNAL_PREFIXES):
            continue  # never served through the proxy: nothing to route, nothing to report
        if pattern.shadowed_by is not None:
            outcome = f"no route: Django answers its paths with {pattern.shadowed_by}"
            outcomes.append(Outcome(pattern, outcome, None))
        elif pattern.kind == "legacy" or pattern.pattern is None:
            outcomes.append(Outcome(pattern, "no route: left to the legacy route", None))
        else:
            candidates.append(pattern)
    prefixes = _app_prefixes(candidates) if per == "app" else {}
    # Django's order decides, so a prefix route is kept only if it takes no path an earlier
    # pattern answers (earlier patterns decided first: a dropped one wins nothing).
    effective: dict[int, tuple[str, str, str]] = {}
    routed: list[Pattern] = []
    labels = {pattern.index: pattern.label() for pattern in patterns}
    for pattern in candidates:
        prefix = prefixes.get(pattern.index)
        if prefix is None and pattern.kind == "prefix":
            stolen = _stolen(pattern, effective, labels)
            if stolen is not None:
                outcome = (
                    f"no route: its prefix {pattern.pattern} would take {stolen[0]}, which "
                    f"Django answers with {stolen[1]}"
                )
                outcomes.append(Outcome(pattern, outcome, None))
                continue
        assert pattern.pattern is not None
        if prefix is not None:
            effective[pattern.index] = ("prefix", prefix, prefix)
        else:
            effective[pattern.index] = (pattern.kind, pattern.pattern, pattern.head)
        routed.append(pattern)
    routes: dict[tuple[str, str], Route] = {}
    names: set[str] = set()
    for pattern in routed:
        prefix = prefixes.get(pattern.index)
        if prefix is not None:
            key = ("prefix", prefix)
            route = routes.get(key)
            if route is None:
                name = _app_route_name(pattern.app, prefix)
                if name in names:  # the same app under two prefixes: the whole prefix says which
                    name = f"{_slug(pattern.app)}-{_slug(prefix.replace('/', '-'))}"
                name = _unique(name, names)
                route = routes[key] = Route(name, "prefix", prefix, pattern.app)
            route.patterns.append(pattern)
            # The app's prefix takes every path of its patterns, however they are written;
            # only a pattern the proxy could not have said on its own is worth a line.
            if pattern.exactness == "widened":
                outcomes.append(Outcome(pattern, f"in the app's prefix {prefix}", route.name))
            continue
        assert pattern.pattern is not None
        kind: Literal["path", "prefix"] = "prefix" if pattern.kind == "prefix" else "path"
        key = (kind, _PARAMETER.sub(r"<\1>", pattern.pattern))
        route = routes.get(key)
        if route is None:
            name = _unique(_pattern_route_name(pattern), names)
            route = routes[key] = Route(name, kind, pattern.pattern, pattern.app)
        elif pattern.exactness == "exact":
            outcome = f"shares route {route.name}: the proxy reads both alike"
            outcomes.append(Outcome(pattern, outcome, route.name))
        route.patterns.append(pattern)
        if pattern.exactness == "widened":
            outcomes.append(Outcome(pattern, f"widened to prefix {pattern.pattern}", route.name))
        elif pattern.exactness == "approximated":
            outcomes.append(Outcome(pattern, f"approximated as {pattern.pattern}", route.name))
    outcomes.sort(key=lambda outcome: outcome.pattern.index)
    return UrlconfTable(list(routes.values()), outcomes, len(patterns))


def _stolen(
    pattern: Pattern, effective: dict[int, tuple[str, str, str]], labels: dict[int, str]
) -> tuple[str, str] | None:
    """A path Django answers with an earlier pattern that ``pattern``'s prefix route would
    take from it in the proxy; ``None`` when the earlier pattern's own route wins every such
    path (the proxy's precedence, docs/proxy.md: exact paths, then the most literal text)."""
    prefix = pattern.pattern or ""
    for path, index in pattern.probes:
        if index > pattern.index:
            continue  # a later pattern: Django itself lets this one answer first
        route = effective.get(index)
        if route is None or not _wins_over_prefix(route, prefix, path):
            return path, labels.get(index, f"pattern {index}")
    return None


def _wins_over_prefix(route: tuple[str, str, str], prefix: str, path: str) -> bool:
    kind, pattern, head = route
    if kind == "prefix":
        return len(pattern) > len(prefix)
    if pattern == head:  # an exact path
        return pattern == path
    return len(_PARAMETER.sub("", pattern)) >= len(prefix)


def _could_reach(pattern: Pattern, prefix: str) -> tuple[bool, bool]:
    """(whether some path under ``prefix`` may be this pattern's, whether all of its are)."""
    assert pattern.pattern is not None
    if pattern.head.startswith(prefix):
        return True, True
    open_ended = pattern.kind == "prefix" or pattern.pattern != pattern.head
    return open_ended and prefix.startswith(pattern.head), False


def _app_prefixes(patterns: Sequence[Pattern]) -> dict[int, str]:
    """Each pattern's app prefix (by index), for those that have one."""
    found: dict[int, str] = {}
    for pattern in patterns:
        head = pattern.head
        for cut in (i for i, char in enumerate(head) if char == "/" and i > 0):
            prefix = head[: cut + 1]
            if all(
                other.app == pattern.app and inside
                for other in patterns
                for reaches, inside in [_could_reach(other, prefix)]
                if reaches
            ):
                found[pattern.index] = prefix
                break
    return found


def _slug(text: str) -> str:
    return _NAME_INVALID.sub("-", text.lower()).strip("-._") or "route"


def _app_route_name(app: str, prefix: str) -> str:
    app_slug = _slug(app)
    segment = _slug(prefix.rstrip("/").rpartition("/")[2])
    return app_slug if segment == app_slug else f"{app_slug}-{segment}"


def _pattern_route_name(pattern: Pattern) -> str:
    return _slug((pattern.url_name or pattern.view).replace(":", "."))


def _unique(name: str, taken: set[str]) -> str:
    candidate = name[:_NAME_LENGTH]
    counter = 2
    while candidate in taken:
        suffix = f"-{counter}"
        candidate = name[: _NAME_LENGTH - len(suffix)] + suffix
        counter += 1
    taken.add(candidate)
    return candidate


def _scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain when YAML reads it back unchanged, else quoted."""
    return text if _PLAIN.match(text) else json.dumps(text)


def table_yaml(table: UrlconfTable, *, legacy: str, url: str, source: str) -> str:
    """The route table file: the legacy upstream and every route in mode ``monolith``."""
    lines = [
        f"# Written by `strangler routes from-urlconf` from {source}: one route per "
        "URL pattern or app prefix,",
        "# all answered by the monolith until a migration plan moves them.",
        "version: 1",
        f"legacy: {_scalar(legacy)}",
        "upstreams:",
        f"  {_scalar(legacy)}:",
        f"    url: {json.dumps(url)}",
        "routes:",
    ]
    for route in table.routes:
        lines += [
            f"  - name: {_scalar(route.name)}",
            f"    {route.kind}: {_scalar(route.pattern)}",
            f"    owner: {_scalar(legacy)}",
            "    mode: monolith",
        ]
    if not table.routes:
        lines[-1] = "routes: []"
    return "\n".join(lines) + "\n"
