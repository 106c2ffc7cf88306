"""Field paths: how a place in a JSON document is written, and globs that match places.

A path is a list of segments: a member name (``price``), a list item (``[]`` in the
index-free key, ``[3]`` or ``[id=7]`` in the display path). Names that are not plain
identifiers are quoted: ``["content-type.x"]``. Examples:

    results[3].price       display path of one value
    results[].price        its key: what differences on that field have in common

A glob is written like a key, where a whole segment may also be ``*`` (exactly one segment:
a member or a list item) or ``**`` (any number of segments, none included). Globs match
keys segment by segment, never as substrings: ``price`` matches the top-level ``price``
only, ``**.price`` every ``price`` at any depth, ``results[].*`` every member of an item.
"""

from __future__ import annotations

import itertools
import json
import re
from functools import cache, lru_cache

__all__ = [
    "ANY",
    "DEEP",
    "ITEM",
    "Glob",
    "child_key",
    "globs_overlap",
    "matches",
    "parse_glob",
    "parse_key",
    "render_glob",
]

ITEM = "[]"
ANY = "*"
DEEP = "**"
# Member names are stored with a leading '.', so they never collide with the three above.
_NAME_PREFIX = "."
# Keys starting with '@' or '$' are the engine's own (``@status``, ``@header.vary``, ``$``
# for a document's root), so member names starting with either are always quoted.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_$-]*\Z")
_BARE = re.compile(r"[^.\[\]\"*\s]+")

Glob = tuple[str, ...]


def child_key(parent: str, name: str) -> str:
    """The key (or display path) of member ``name`` below ``parent``."""
    if _PLAIN.match(name):
        return f"{parent}.{name}" if parent else name
    return f"{parent}[{json.dumps(name, ensure_ascii=False)}]"


def _unreadable(text: str, pos: int) -> str:
    hint = " (a wildcard must be a whole segment)" if "*" in text else ""
    return f"cannot be read at position {pos}: {text[pos:][:20]!r}{hint}"


def _parse(text: str, *, wildcards: bool) -> Glob:
    if not text:
        raise ValueError("is empty; write a path such as 'results[].price'")
    segments: list[str] = []
    pos = 0
    expect_segment = True  # at the start and after '.'
    while pos < len(text):
        rest = text[pos:]
        if rest.startswith("[]"):
            segments.append(ITEM)
            pos += 2
        elif rest.startswith('["'):
            end = text.find('"]', pos + 2)
            while end != -1 and text[end - 1] == "\\":
                end = text.find('"]', end + 1)
            if end == -1:
                raise ValueError(f"has an unclosed '[\"' at position {pos}")
            segments.append(_NAME_PREFIX + json.loads(text[pos + 1 : end + 1]))
            pos = end + 2
        elif expect_segment and wildcards and rest.startswith("**"):
            segments.append(DEEP)
            pos += 2
        elif expect_segment and wildcards and rest.startswith("*"):
            segments.append(ANY)
            pos += 1
        elif expect_segment and (bare := _BARE.match(text, pos)):
            segments.append(_NAME_PREFIX + bare.group())
            pos = bare.end()
        else:
            raise ValueError(_unreadable(text, pos))
        expect_segment = False
        if pos < len(text):
            if text[pos] == ".":
                pos += 1
                expect_segment = True
                if pos == len(text) or text[pos] == "[":
                    raise ValueError(f"has an empty segment at position {pos}")
            elif text[pos] != "[":
                raise ValueError(_unreadable(text, pos))
    if any(a == DEEP and b == DEEP for a, b in itertools.pairwise(segments)):
        raise ValueError("repeats '**'; one '**' already matches any depth")
    return tuple(segments)


def parse_glob(text: str) -> Glob:
    """A glob's segments; ``ValueError`` says what cannot be read and where."""
    return _parse(text, wildcards=True)


@lru_cache(maxsize=4096)
def parse_key(key: str) -> Glob:
    """A key's segments (the empty key is the document's root)."""
    return _parse(key, wildcards=False) if key else ()


def _single(pattern: str, segment: str) -> bool:
    return pattern in (ANY, segment)


def matches(glob: Glob, key: Glob) -> bool:
    """Whether ``glob`` matches the whole of ``key``."""

    @cache
    def at(i: int, j: int) -> bool:
        if i == len(glob):
            return j == len(key)
        if glob[i] == DEEP:
            return at(i + 1, j) or (j < len(key) and at(i, j + 1))
        return j < len(key) and _single(glob[i], key[j]) and at(i + 1, j + 1)

    return at(0, 0)


def globs_overlap(first: Glob, second: Glob) -> bool:
    """Whether some key is matched by both globs."""

    @cache
    def at(i: int, j: int) -> bool:
        if i == len(first) and j == len(second):
            return True
        deep_first = i < len(first) and first[i] == DEEP
        if deep_first and (at(i + 1, j) or (j < len(second) and at(i, j + 1))):
            return True
        deep_second = j < len(second) and second[j] == DEEP
        if deep_second and (at(i, j + 1) or (i < len(first) and at(i + 1, j))):
            return True
        if i < len(first) and j < len(second) and DEEP not in (first[i], second[j]):
            a, b = first[i], second[j]
            return (a in (ANY, b) or b == ANY) and at(i + 1, j + 1)
        return False

    return at(0, 0)


def render_glob(glob: Glob) -> str:
    out = ""
    for segment in glob:
        if segment == ITEM:
            out += ITEM
        elif segment in (ANY, DEEP):
            out += f".{segment}" if out else segment
        else:
            out = child_key(out, segment[1:])
    return out
