"""One Django URL pattern as the proxy's pattern: a ``path`` with its converters, a
``prefix``, or nothing (the table's legacy route takes it).

A pattern is the chain of pieces Django matches one after another: each ``include()``'s
prefix, then the view's own ``path()`` or ``re_path()``. ``path()`` pieces translate exactly
when their converters are Django's own (the proxy has the same five, with the same regexes).
A ``re_path()`` piece translates when it is a plain shape: anchored literals and groups whose
body is one of the converters' regexes. What the proxy cannot say exactly is *widened*: the
route becomes a prefix route on the literal text before it (cut back to a ``/``), which takes
every path Django's pattern takes and more; with no literal text left, the pattern is left
to the legacy route. Nothing is ever narrowed: a path Django answers is never routed away
from the pattern's route by the translation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "SAMPLES",
    "Converter",
    "Piece",
    "Translation",
    "translate",
]

# The proxy's converters, with the value that stands for each in a sample path
# (strangler/proxy/routing.py has the same regexes and samples).
SAMPLES: dict[str, str] = {
    "int": "7",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "slug": "a-slug",
    "str": "any",
    "path": "any/path",
}
# A group's body, as written in a re_path() or a custom converter's ``regex``, that one of
# the proxy's converters matches: exactly (None) or with a caveat (the note says which).
_BODIES: dict[str, tuple[str, str | None]] = {
    "[0-9]+": ("int", None),
    r"\d+": ("int", r"\d also matches non-ASCII digits, which the proxy's <int> does not"),
    "[^/]+": ("str", None),
    ".+": ("path", None),
    "[-a-zA-Z0-9_]+": ("slug", None),
    "[-\\w]+": ("slug", r"\w also matches non-ASCII letters, which the proxy's <slug> does not"),
    "[\\w-]+": ("slug", r"\w also matches non-ASCII letters, which the proxy's <slug> does not"),
    "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}": ("uuid", None),
}
# Django's own <converter:name> syntax in path() (django/urls/resolvers.py).
_ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")
_GROUP = re.compile(r"\((?:\?P<(?P<name>[A-Za-z_][A-Za-z0-9_]*)>)?(?P<body>[^()]*)\)")
_SPECIAL = set(".^$*+?{}[]|()\\")
_QUANTIFIERS = set("*+?{")

Exactness = Literal["exact", "approximated", "widened", "legacy"]


@dataclass(frozen=True)
class Converter:
    """A ``path()`` parameter's converter: Django's own (``builtin`` names it) or custom."""

    builtin: str | None
    regex: str
    dotted: str


@dataclass(frozen=True)
class Piece:
    """One level of a pattern: an ``include()``'s prefix or the view's own pattern."""

    kind: Literal["route", "regex"]
    text: str
    endpoint: bool
    converters: dict[str, Converter] = field(default_factory=dict)


@dataclass(frozen=True)
class Translation:
    kind: Literal["path", "prefix", "legacy"]
    pattern: str | None
    exactness: Exactness
    notes: tuple[str, ...]
    # The literal text before the first parameter (the whole path when there is none).
    head: str
    # A path the pattern matches (None when left to the legacy route).
    sample: str | None


class _Stop(Exception):
    """The rest of the pattern cannot be said in the proxy's syntax; the reason is the message."""


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = ["/"]
        self.sample: list[str] = ["/"]
        self.literal_before_parameter: str | None = None
        self.names: set[str] = set()
        self.notes: list[str] = []
        self.approximated = False
        self.anything_after = False

    def literal(self, text: str) -> None:
        if "<" in text:
            raise _Stop(f"literal {text!r} holds '<', which the proxy reads as a parameter")
        self.parts.append(text)
        self.sample.append(text)

    def parameter(self, converter: str, name: str) -> None:
        if self.literal_before_parameter is None:
            self.literal_before_parameter = "".join(self.sample)
        unique = name
        counter = 2
        while unique in self.names:
            unique = f"{name}_{counter}"
            counter += 1
        self.names.add(unique)
        self.parts.append(f"<{converter}:{unique}>")
        self.sample.append(SAMPLES[converter])

    @property
    def head(self) -> str:
        if self.literal_before_parameter is not None:
            return self.literal_before_parameter
        return "".join(self.sample)


def translate(pieces: list[Piece]) -> Translation:
    """The proxy's pattern for the chain ``pieces`` (outermost first)."""
    builder = _Builder()
    try:
        for piece in pieces:
            if piece.kind == "route":
                _route_piece(piece, builder)
            else:
                _regex_piece(piece, builder)
    except _Stop as stop:
        return _widened(builder, str(stop))
    exactness: Exactness = "approximated" if builder.approximated else "exact"
    if builder.anything_after:
        if builder.literal_before_parameter is not None:
            return _widened(builder, "a parameter followed by anything (a regex without '$')")
        prefix = "".join(builder.parts)
        return Translation(
            "prefix", prefix, exactness, tuple(builder.notes), prefix, prefix + "any/path"
        )
    return Translation(
        "path",
        "".join(builder.parts),
        exactness,
        tuple(builder.notes),
        builder.head,
        "".join(builder.sample),
    )


def _widened(builder: _Builder, reason: str) -> Translation:
    literal = builder.head
    prefix = literal[: literal.rfind("/") + 1]
    notes = (*builder.notes, reason)
    if prefix == "/":
        return Translation("legacy", None, "legacy", notes, "/", None)
    return Translation("prefix", prefix, "widened", notes, prefix, prefix + "any/path")


def _route_piece(piece: Piece, builder: _Builder) -> None:
    position = 0
    for match in _ROUTE_PARAMETER.finditer(piece.text):
        builder.literal(piece.text[position : match.start()])
        name = match.group("parameter")
        converter = piece.converters.get(name)
        if converter is None:  # Django refuses such a route; the export never sends one
            raise _Stop(f"parameter {name!r} has no converter")
        if converter.builtin is not None:
            builder.parameter(converter.builtin, name)
        else:
            shape = _BODIES.get(converter.regex)
            if shape is None:
                raise _Stop(
                    f"custom converter {converter.dotted} (regex {converter.regex!r}) has no "
                    "equivalent among the proxy's converters"
                )
            builder.approximated = True
            builder.notes.append(
                f"custom converter {converter.dotted} read as <{shape[0]}>, the same regex "
                f"{converter.regex}: a value its to_python refuses still comes to this route"
            )
            if shape[1] is not None:
                builder.notes.append(shape[1])
            builder.parameter(shape[0], name)
        position = match.end()
    builder.literal(piece.text[position:])
    # A path() include matches a prefix; its children say the rest.


def _regex_piece(piece: Piece, builder: _Builder) -> None:
    regex = piece.text
    # Django fully matches an endpoint's regex that ends with '$' (RegexPattern.match), and
    # searches anywhere otherwise: without '^', only such an endpoint is anchored.
    full_match = piece.endpoint and regex.endswith("$")
    if not regex.startswith("^") and not full_match:
        raise _Stop(f"regex {regex!r} is not anchored with '^': Django searches anywhere in it")
    regex = regex.removeprefix("^")
    anchored_end = regex.endswith("$") and not regex.endswith("\\$")
    if anchored_end:
        regex = regex[:-1]
    elif regex.endswith(r"\Z"):
        regex, anchored_end = regex[:-2], True
    unnamed = 0
    index = 0
    literal: list[str] = []

    def flush() -> None:
        if literal:
            builder.literal("".join(literal))
            literal.clear()

    while index < len(regex):
        char = regex[index]
        following = regex[index + 1] if index + 1 < len(regex) else ""
        if char == "(":
            group = _GROUP.match(regex, index)
            if group is None:
                flush()
                raise _Stop(f"regex {piece.text!r}: a group other than (?P<name>...) or (...)")
            after = regex[group.end()] if group.end() < len(regex) else ""
            if after in _QUANTIFIERS:
                flush()
                raise _Stop(f"regex {piece.text!r}: an optional or repeated group")
            body = group.group("body")
            flush()
            if body == ".*" and group.end() == len(regex) and anchored_end:
                builder.anything_after = True
                index = group.end()
                continue
            shape = _BODIES.get(body)
            if shape is None:
                raise _Stop(f"regex {piece.text!r}: group body {body!r} is no converter's regex")
            if shape[1] is not None:
                builder.approximated = True
                builder.notes.append(shape[1])
            unnamed += group.group("name") is None
            builder.parameter(shape[0], group.group("name") or f"arg{unnamed}")
            index = group.end()
            continue
        if char == "\\" and following and not following.isalnum():
            text, step = following, 2
        elif char not in _SPECIAL:
            text, step = char, 1
        else:
            flush()
            raise _Stop(f"regex {piece.text!r}: {char!r} at {index + 1} is not a plain literal")
        if index + step < len(regex) and regex[index + step] in _QUANTIFIERS:
            flush()
            raise _Stop(f"regex {piece.text!r}: an optional or repeated character")
        literal.append(text)
        index += step
    flush()
    if piece.endpoint and not anchored_end:
        builder.anything_after = True
