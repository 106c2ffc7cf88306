"""``python -m tests.strangler.urlconf_resolve``: a corpus of concrete paths built from a
project's URLconf, each with the pattern Django's own ``resolve`` picks for it, as JSON.

Run with ``DJANGO_SETTINGS_MODULE`` set, in a process of its own (the suite's process has no
Django settings). Built apart from ``strangler.urlconf``: every pattern's parameters are
filled with each sample value its converter (or its regex group) accepts, so the corpus also
holds paths one pattern's shape builds and another pattern answers.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import django
from django.urls import URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RoutePattern

# Values for every parameter: numbers (zero too, which a key converter refuses), slugs,
# a word that is also a literal segment ("new"), a uuid, a hex colour, a path with a slash.
SAMPLES = (
    "7", "42", "0", "a-slug", "new", "by-slug", "archive", "Mixed_Case",
    "123e4567-e89b-12d3-a456-426614174000", "00ff7f", "x/y", "page-2/",
)  # fmt: skip
# A pattern with many parameters would multiply the corpus: its first combinations suffice.
COMBINATIONS_PER_PATTERN = 200
_ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")
_GROUP = re.compile(r"\((?:\?P<[^>]+>|\?:)?(?P<body>(?:[^()]|\([^()]*\))*)\)(?P<optional>\?)?")


def _route_fillings(pattern: RoutePattern) -> Iterator[str]:
    text = str(pattern)
    parameters = list(_ROUTE_PARAMETER.finditer(text))
    choices = []
    for match in parameters:
        converter = pattern.converters[match.group("parameter")]
        accepted = []
        for sample in SAMPLES:
            if re.fullmatch(converter.regex, sample) is None:
                continue
            try:
                converter.to_python(sample)
            except ValueError:
                continue
            accepted.append(sample)
        choices.append(accepted)
    for values in itertools.islice(itertools.product(*choices), COMBINATIONS_PER_PATTERN):
        pieces, position = [], 0
        for match, value in zip(parameters, values, strict=True):
            pieces += [text[position : match.start()], value]
            position = match.end()
        yield "".join(pieces) + text[position:]


def _regex_fillings(regex: str) -> Iterator[str]:
    body = regex.removeprefix("^").removesuffix("$")
    groups = list(_GROUP.finditer(body))
    choices = []
    for group in groups:
        inner = group.group("body")
        accepted = [s for s in SAMPLES if re.fullmatch(inner, s)]
        accepted += [part for part in inner.split("|") if re.fullmatch(r"[\w-]+", part)]
        if group.group("optional"):
            accepted.append("")
        choices.append(accepted)
    for values in itertools.islice(itertools.product(*choices), COMBINATIONS_PER_PATTERN):
        pieces, position = [], 0
        for group, value in zip(groups, values, strict=True):
            pieces += [body[position : group.start()], value]
            position = group.end()
        candidate = re.sub(r"\\(.)", r"\1", "".join(pieces) + body[position:])
        if re.search(regex, candidate):
            yield candidate


def _fillings(entry: Any) -> list[str]:
    if isinstance(entry.pattern, RoutePattern):
        return list(_route_fillings(entry.pattern))
    return list(_regex_fillings(entry.pattern.regex.pattern))


def corpus(resolver: URLResolver, prefixes: list[str]) -> Iterator[str]:
    for entry in resolver.url_patterns:
        fillings = _fillings(entry)
        paths = [prefix + filling for prefix in prefixes for filling in fillings]
        if isinstance(entry, URLResolver):
            yield from corpus(entry, paths)
        else:
            yield from paths


def main() -> int:
    django.setup()
    answers = []
    for path in sorted(set(corpus(get_resolver(), ["/"]))):
        for candidate in (path, path + "extra/"):
            try:
                match = resolve(candidate)
            except Resolver404:
                continue
            answers.append({"path": candidate, "route": match.route, "view": match._func_path})
    json.dump(answers, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
