"""``python -m strangler.urlconf.export [--urlconf MODULE]``: every URL pattern of a Django
project, as JSON on stdout, for ``strangler routes from-urlconf``.

Run with the project's ``DJANGO_SETTINGS_MODULE`` in a process of its own: the CLI never
imports a team's project. It walks Django's resolver (``get_resolver()``, through every
``include()`` with its namespaces), translates each pattern with
:func:`strangler.urlconf.patterns.translate`, and asks Django's own ``resolve`` which pattern
answers the translation's sample path: a pattern an earlier one always answers for is marked
``shadowed_by`` that one.

Exit status: 0 printed; 2 the settings or the URLconf cannot be loaded (the reason on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import django
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.urls import Resolver404, URLPattern, URLResolver, converters, get_resolver
from django.urls.resolvers import ResolverMatch, RoutePattern

from strangler.urlconf.patterns import SAMPLES, Converter, Piece, translate

__all__ = ["PatternRecord", "main", "patterns"]

_CANNOT_RUN = 2


@dataclass(frozen=True)
class PatternRecord:
    """One URL pattern as the CLI reads it."""

    index: int
    django_route: str
    view: str
    url_name: str | None
    app: str
    kind: str
    pattern: str | None
    exactness: str
    notes: list[str]
    head: str
    sample: str | None
    shadowed_by: str | None
    # For a prefix: paths under it that Django answers with another pattern, by its index.
    probes: list[dict[str, Any]]


def _converter(converter: Any) -> Converter:
    builtin = {
        converters.IntConverter: "int",
        converters.StringConverter: "str",
        converters.SlugConverter: "slug",
        converters.UUIDConverter: "uuid",
        converters.PathConverter: "path",
    }.get(type(converter))
    kind = type(converter)
    return Converter(builtin, str(converter.regex), f"{kind.__module__}.{kind.__qualname__}")


def _piece(pattern: Any, *, endpoint: bool) -> Piece:
    if isinstance(pattern, RoutePattern):
        converters = {name: _converter(value) for name, value in pattern.converters.items()}
        return Piece("route", str(pattern), endpoint, converters)
    # RegexPattern, and LocalePrefixPattern (its regex is the active language's prefix).
    return Piece("regex", str(pattern.regex.pattern), endpoint)


def _join_route(first: str, second: str) -> str:
    # ResolverMatch.route as django.urls.resolvers.URLResolver._join_route builds it.
    return second if not first else first + second.removeprefix("^")


@dataclass(frozen=True)
class _Leaf:
    chain: tuple[Any, ...]
    callback: Any
    url_name: str | None
    namespaces: tuple[str, ...]
    app_name: str | None
    # The module of the URLconf that routes to the view (None for a list given to include()).
    urlconf: str | None


def _module_name(urlconf: Any) -> str | None:
    if isinstance(urlconf, str):
        return urlconf
    name = getattr(urlconf, "__name__", None)
    return name if isinstance(name, str) else None


def _leaves(
    resolver: Any,
    chain: tuple[Any, ...],
    namespaces: tuple[str, ...],
    app: str | None,
    urlconf: str | None,
) -> Iterator[_Leaf]:
    urlconf = _module_name(resolver.urlconf_name) or urlconf
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _leaves(entry, (*chain, entry), inner, entry.app_name or app, urlconf)
        else:
            yield _Leaf((*chain, entry), entry.callback, entry.name, namespaces, app, urlconf)


def _app_of(leaf: _Leaf, view_module: str) -> str:
    if leaf.app_name:
        return leaf.app_name
    # A view from a module no installed app holds (Django's RedirectView in the project's
    # urls.py, a helper library's) belongs to whoever routes to it: the URLconf's app, or
    # its package.
    for module in (view_module, leaf.urlconf):
        config = apps.get_containing_app_config(module) if module else None
        if config is not None:
            return config.label
    module = leaf.urlconf or view_module
    return module.rpartition(".")[0] or module


def patterns(urlconf: str | None) -> list[PatternRecord]:
    """Every pattern of ``urlconf`` (default: ``ROOT_URLCONF``), in Django's order."""
    resolver = get_resolver(urlconf)
    leaves = list(_leaves(resolver, (), (), None, None))
    routes: list[str] = []
    for leaf in leaves:
        route = ""
        for entry in reversed(leaf.chain):
            route = _join_route(str(entry.pattern), route)
        routes.append(route)
    index_of = {
        (route, id(leaf.callback)): i
        for i, (route, leaf) in enumerate(zip(routes, leaves, strict=True))
    }
    records: list[PatternRecord] = []
    for index, leaf in enumerate(leaves):
        pieces = [
            _piece(entry.pattern, endpoint=isinstance(entry, URLPattern)) for entry in leaf.chain
        ]
        translation = translate(pieces)
        view = ResolverMatch(leaf.callback, (), {})._func_path
        notes = list(translation.notes)
        shadowed_by = None
        if translation.sample is not None and translation.kind == "path":
            try:
                match = resolver.resolve(translation.sample)
            except Resolver404:
                notes.append(f"its sample path {translation.sample} resolves to nothing in Django")
            else:
                if match.func is not leaf.callback or match.route != routes[index]:
                    shadowed_by = f"{match.route} ({match._func_path})"
        probes = []
        if translation.kind == "prefix" and translation.pattern is not None:
            for probe in _probes(translation.pattern):
                try:
                    match = resolver.resolve(probe)
                except Resolver404:
                    continue
                answered_by = index_of.get((match.route, id(match.func)))
                if answered_by is not None and answered_by != index:
                    probes.append({"path": probe, "answered_by": answered_by})
        url_name = ":".join((*leaf.namespaces, leaf.url_name)) if leaf.url_name else None
        records.append(
            PatternRecord(
                index=index,
                django_route=routes[index],
                view=view,
                url_name=url_name,
                app=_app_of(leaf, view.rpartition(".")[0]),
                kind=translation.kind,
                pattern=translation.pattern,
                exactness=translation.exactness,
                notes=notes,
                head=translation.head,
                sample=translation.sample,
                shadowed_by=shadowed_by,
                probes=probes,
            )
        )
    return records


def _probes(prefix: str) -> list[str]:
    """Paths under a prefix route that an earlier pattern may answer instead."""
    return [prefix, prefix + "any"] + [prefix + value + "/" for value in SAMPLES.values()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m strangler.urlconf.export")
    parser.add_argument("--urlconf", help="the URLconf module (default: settings.ROOT_URLCONF)")
    args = parser.parse_args(argv)
    try:
        django.setup()
    except ImportError as exc:
        print(f"cannot load the Django settings: {exc}", file=sys.stderr)
        return _CANNOT_RUN
    except ImproperlyConfigured as exc:
        print(f"the Django settings are not usable: {exc}", file=sys.stderr)
        return _CANNOT_RUN
    try:
        records = patterns(args.urlconf)
    except ImportError as exc:
        print(f"cannot load the URLconf: {exc}", file=sys.stderr)
        return _CANNOT_RUN
    except ImproperlyConfigured as exc:
        print(f"the URLconf is not usable: {exc}", file=sys.stderr)
        return _CANNOT_RUN
    json.dump({"patterns": [asdict(record) for record in records]}, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
