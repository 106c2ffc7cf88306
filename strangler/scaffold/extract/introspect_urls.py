"""The URLconf half of the introspection (in the child process): every named pattern with
its full route and proxy pattern, where the apps' URL modules are mounted, error views."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

__all__ = ["error_handlers", "full_route", "pattern_text", "url_patterns", "walk_urls"]


def pattern_text(pattern: Any) -> tuple[str, bool]:
    from django.urls.resolvers import LocalePrefixPattern, RoutePattern

    # str() of a RoutePattern is its route, of a RegexPattern its regex.
    if isinstance(pattern, RoutePattern):
        return str(pattern), False
    if isinstance(pattern, LocalePrefixPattern):
        return "", False
    return str(pattern), True


def walk_urls(
    patterns: list[Any], route: list[tuple[str, bool]], namespaces: list[str]
) -> Iterator[dict[str, Any]]:
    from django.urls import URLPattern, URLResolver

    for entry in patterns:
        piece = pattern_text(entry.pattern)
        if isinstance(entry, URLResolver):
            module = entry.urlconf_name
            module_name = module if isinstance(module, str) else getattr(module, "__name__", "")
            yield {
                "kind": "mount",
                "route": [*route, piece],
                "namespaces": [*namespaces, entry.namespace] if entry.namespace else namespaces,
                "module": module_name,
                "namespace": entry.namespace,
                "app_name": entry.app_name,
            }
            yield from walk_urls(
                entry.url_patterns,
                [*route, piece],
                [*namespaces, entry.namespace] if entry.namespace else namespaces,
            )
        elif isinstance(entry, URLPattern):
            callback = entry.callback
            view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
            model = None
            if view_class is not None:
                queryset = getattr(view_class, "queryset", None)
                if queryset is not None:
                    model = queryset.model._meta.label
            converters = {}
            for name, converter in getattr(entry.pattern, "converters", {}).items():
                kind = type(converter)
                converters[name] = f"{kind.__module__}.{kind.__qualname__}"
            yield {
                "kind": "pattern",
                "route": [*route, piece],
                "namespaces": namespaces,
                "name": entry.name,
                "view": f"{callback.__module__}."
                f"{getattr(callback, '__qualname__', type(callback).__name__)}",
                "view_module": callback.__module__,
                "view_class_module": view_class.__module__ if view_class else None,
                "model": model,
                "converters": converters,
                "methods": sorted(m.upper() for m in getattr(callback, "actions", {}) or {}),
            }


def full_route(route: list[tuple[str, bool]]) -> tuple[str, bool]:
    regex = any(is_regex for _, is_regex in route)
    if not regex:
        return "".join(text for text, _ in route), False
    parts = []
    for text, is_regex in route:
        if not is_regex:
            parts.append(re.escape(text))
        else:
            parts.append(text.removeprefix("^").removesuffix("\\Z").removesuffix("$"))
    return "^" + "".join(parts) + "$", True


def url_patterns(app_modules: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from django.urls import get_resolver

    def inside(module: str | None) -> bool:
        return bool(module) and any(
            module == m or str(module).startswith(m + ".") for m in app_modules
        )

    from strangler.urlconf.export import patterns as exported

    translations = iter(exported(None))
    patterns, mounts = [], []
    for item in walk_urls(get_resolver().url_patterns, [], []):
        full, regex = full_route(item["route"])
        item["full"], item["regex"] = full, regex
        del item["route"]
        if item["kind"] == "mount":
            if inside(item["module"]):
                mounts.append(item)
            continue
        name = item["name"]
        item["qualified"] = ":".join([*item["namespaces"], name]) if name else None
        item["in_app"] = inside(item["view_module"]) or inside(item["view_class_module"])
        translation = next(translations, None)
        item["proxy"] = (
            {
                "kind": translation.kind,
                "pattern": translation.pattern,
                "exactness": translation.exactness,
            }
            if translation is not None
            else None
        )
        patterns.append(item)
    # A mount inside another extracted mount comes with it.
    outer = [
        m
        for m in mounts
        if not any(
            o is not m and m["full"].startswith(o["full"]) and m["module"].startswith(o["module"])
            for o in mounts
        )
    ]
    return patterns, outer


def error_handlers() -> dict[str, str]:
    """The root URLconf's error views (``handler404 = "monolith.core.views.page_not_found"``)."""
    from django.urls import get_resolver

    found = {}
    for code in ("400", "403", "404", "500"):
        view = getattr(get_resolver().urlconf_module, f"handler{code}", None)
        if isinstance(view, str):
            found[f"handler{code}"] = view
        elif view is not None:
            found[f"handler{code}"] = f"{view.__module__}.{view.__qualname__}"
    return found
