"""Which route a request belongs to: pure, no sockets.

Precedence, most specific first (documented in docs/proxy.md and tested):

1. a ``path`` without converters (an exact path);
2. then, by the number of literal characters, longest first: ``path`` patterns with
   Django-style converters and ``prefix`` routes; at equal length a pattern before a prefix,
   then stricter converters first (int, uuid < slug < str < path);
3. then routes that list methods before routes for every method, then file order.

``GET`` in a route's methods admits ``HEAD`` too, as Django does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from strangler.proxy.config import TableConfig
from strangler.proxy.errors import ConfigError
from strangler.proxy.route_config import RouteConfig

__all__ = ["CompiledRoute", "Finding", "RouteTable"]

_CONVERTERS: dict[str, tuple[str, int, str]] = {
    # name: (regex, strictness, a sample value for overlap checks)
    "int": (r"[0-9]+", 0, "7"),
    "uuid": (
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        0,
        "00000000-0000-0000-0000-000000000000",
    ),
    "slug": (r"[-a-zA-Z0-9_]+", 1, "a-slug"),
    "str": (r"[^/]+", 2, "any"),
    "path": (r".+", 3, "any/path"),
}
_PARAMETER = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)>")
Kind = Literal["exact", "pattern", "prefix"]
_KIND_RANK = {"exact": 0, "pattern": 1, "prefix": 2}


@dataclass(frozen=True)
class CompiledRoute:
    config: RouteConfig
    index: int
    kind: Kind
    literal_length: int
    strictness: int
    regex: re.Pattern[str] | None
    sample: str
    methods: frozenset[str] | None = field(default=None)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def pattern(self) -> str:
        return self.config.path or self.config.prefix or ""

    def sort_key(self) -> tuple[int, int, int, int, int, int]:
        exact_first = 0 if self.kind == "exact" else 1
        return (
            exact_first,
            -self.literal_length,
            _KIND_RANK[self.kind],
            self.strictness,
            0 if self.methods is not None else 1,
            self.index,
        )

    def matches_path(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.config.path
        if self.kind == "prefix":
            return path.startswith(self.config.prefix or "")
        assert self.regex is not None
        return self.regex.fullmatch(path) is not None

    def allows(self, method: str) -> bool:
        return self.methods is None or method in self.methods


def _compile(route: RouteConfig, index: int, source: str) -> CompiledRoute:
    methods = None
    if route.methods is not None:
        methods = frozenset(route.methods) | ({"HEAD"} if "GET" in route.methods else set())
    if route.prefix is not None:
        return CompiledRoute(
            route, index, "prefix", len(route.prefix), 0, None, route.prefix + "x", methods
        )
    path = route.path or ""
    pieces: list[str] = []
    sample: list[str] = []
    literal = strictness = 0
    position = 0
    for match in _PARAMETER.finditer(path):
        text = path[position : match.start()]
        pieces.append(re.escape(text))
        sample.append(text)
        literal += len(text)
        converter = match.group("converter") or "str"
        if converter not in _CONVERTERS:
            raise ConfigError(
                f"{source}: routes[{index}] ({route.name}), field 'path': unknown converter "
                f"{converter!r} (use one of {', '.join(_CONVERTERS)})"
            )
        regex, strict, example = _CONVERTERS[converter]
        pieces.append(f"(?P<{match.group('name')}>{regex})")
        sample.append(example)
        strictness += strict
        position = match.end()
    tail = path[position:]
    if position == 0:
        return CompiledRoute(route, index, "exact", len(path), 0, None, path, methods)
    pieces.append(re.escape(tail))
    sample.append(tail)
    literal += len(tail)
    try:
        regex_compiled = re.compile("".join(pieces))
    except re.error as exc:  # a parameter name used twice
        raise ConfigError(f"{source}: routes[{index}] ({route.name}), field 'path': {exc}") from exc
    return CompiledRoute(
        route, index, "pattern", literal, strictness, regex_compiled, "".join(sample), methods
    )


# Matches remembered per table: a path and method are ~200 bytes, so at most ~2 MB.
MATCH_CACHE_ENTRIES = 10_000


@dataclass(frozen=True)
class Finding:
    """Something ``strangler routes check`` reports: an unreachable route is an error."""

    severity: Literal["error", "warning"]
    route: str
    message: str


class RouteTable:
    """An immutable, validated table; swapped whole on reload."""

    def __init__(self, config: TableConfig, *, source: str = "<routes>") -> None:
        self.config = config
        self.source = source
        compiled = [_compile(route, i, source) for i, route in enumerate(config.routes)]
        self.routes: tuple[CompiledRoute, ...] = tuple(sorted(compiled, key=CompiledRoute.sort_key))
        self._exact: dict[str, list[CompiledRoute]] = {}
        for route in self.routes:
            if route.kind == "exact":
                self._exact.setdefault(route.pattern, []).append(route)
        self._others = tuple(route for route in self.routes if route.kind != "exact")
        self._internal = tuple(config.internal_prefixes)
        self._matched: dict[tuple[str, str], CompiledRoute | None] = {}
        self.legacy = config.legacy

    def is_internal(self, path: str) -> bool:
        return path.startswith(self._internal)

    def route(self, name: str) -> CompiledRoute | None:
        return next((route for route in self.routes if route.name == name), None)

    def match(self, method: str, path: str) -> CompiledRoute | None:
        """The route for ``method`` and the decoded canonical ``path``; ``None``: the legacy.
        Remembered per table (it never changes): the same paths come again and again."""
        key = (method, path)
        if key in self._matched:
            return self._matched[key]
        route = self._match(method, path)
        if len(self._matched) >= MATCH_CACHE_ENTRIES:
            self._matched.clear()  # a flood of distinct paths: start over, memory stays bounded
        self._matched[key] = route
        return route

    def _match(self, method: str, path: str) -> CompiledRoute | None:
        for route in self._exact.get(path, ()):
            if route.allows(method):
                return route
        for route in self._others:
            if route.allows(method) and route.matches_path(path):
                return route
        return None

    def findings(self) -> list[Finding]:
        """Unreachable routes (errors) and overlaps between differently served routes."""
        found: list[Finding] = []
        for position, route in enumerate(self.routes):
            earlier = self.routes[:position]
            for other in earlier:
                same_pattern = (other.kind, other.pattern) == (route.kind, route.pattern)
                covers_methods = other.methods is None or (
                    route.methods is not None and route.methods <= other.methods
                )
                if same_pattern and covers_methods:
                    found.append(
                        Finding(
                            "error",
                            route.name,
                            f"unreachable: route {other.name!r} has the same pattern "
                            f"{route.pattern!r} and takes all of its methods first",
                        )
                    )
                    break
            else:
                for other in earlier:
                    served_alike = (other.config.owner, other.config.mode) == (
                        route.config.owner,
                        route.config.mode,
                    )
                    shared = next(
                        (
                            sample
                            for sample in (route.sample, other.sample)
                            if other.matches_path(sample) and route.matches_path(sample)
                        ),
                        None,
                    )
                    if shared is not None and not served_alike:
                        found.append(
                            Finding(
                                "warning",
                                route.name,
                                f"overlaps route {other.name!r}: a path such as {shared!r} "
                                f"goes to {other.name!r}, which takes precedence",
                            )
                        )
                        break
        return found
