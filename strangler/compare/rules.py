"""Comparison rules as written in YAML: a default set, and one set per route.

```yaml
compare:
  ignore: [meta.generated_at, "results[].updated_at"]   # values free, shape still compared
  critical: ["results[].price", total, "**.stock"]     # always reported, never noise
  unordered:
    - {path: results, key: id}        # a list compared as a set keyed by a member
    - {path: tags}                    # no key: a multiset of whole items
  tolerance:
    - {paths: ["**.rating"], absolute: 0.01}
    - {paths: ["**.price"], decimal: true}             # "12.50" equals "12.5"
  normalise:
    - {pattern: "[0-9a-f]{8}-[0-9a-f-]{27}", replace: "<uuid>"}   # every string value
  headers: {compare: [content-type, cache-control, vary]}        # or compare: all
  text: {mask: ['data-rendered-at="[^"]*"']}
  links: [next, previous]            # absolute links compared without scheme, host, port
  local_hosts: [shop.example.com]    # Location hosts that mean "this site"
```

Paths are globs (``strangler.compare.paths``). A route's set extends the defaults: lists
are added together; ``headers.compare`` and ``links``, when given, replace the defaults'.
Which well-formed rules are refused, and why, is written in ``strangler.compare.compiled``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from strangler.compare.errors import RulesInvalid
from strangler.compare.paths import parse_glob

__all__ = [
    "DEFAULT_COMPARED_HEADERS",
    "DEFAULT_LINKS",
    "VOLATILE_HEADERS",
    "CompareRules",
    "HeaderRules",
    "NormaliseRule",
    "TextRules",
    "ToleranceRule",
    "UnorderedRule",
    "parse_rules",
]

# Headers a client's behaviour depends on and that two implementations of one contract
# should agree on; Location is compared on redirects and 201s whatever this list says.
DEFAULT_COMPARED_HEADERS: tuple[str, ...] = (
    "content-type",
    "cache-control",
    "content-language",
    "content-disposition",
    "allow",
    "vary",
    "www-authenticate",
)
# Never compared in ``compare: all`` mode: they differ between any two calls or any two
# servers (time, host, request id, cookies, sizes, transfer details, proxy internals).
VOLATILE_HEADERS: frozenset[str] = frozenset(
    {
        "age",
        "connection",
        "content-encoding",
        "content-length",
        "date",
        "etag",
        "expires",
        "keep-alive",
        "last-modified",
        "server",
        "set-cookie",
        "transfer-encoding",
        "via",
        "x-request-id",
        "x-runtime",
        "x-strangler-shadow",
        "x-strangler-upstream",
    }
)
# DRF's page links, absolute URLs built from the Host header.
DEFAULT_LINKS: tuple[str, ...] = ("next", "previous")


def _glob(value: str) -> str:
    try:
        parse_glob(value)
    except ValueError as exc:
        raise ValueError(f"path {value!r} {exc}") from exc
    return value


def _regex(value: str) -> str:
    try:
        compiled = re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression: {exc}") from exc
    if compiled.fullmatch(""):
        raise ValueError(f"{value!r} matches the empty string: it would rewrite every position")
    return value


def _header_name(value: str) -> str:
    if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", value):
        raise ValueError(f"{value!r} is not a header name")
    return value.lower()


GlobText = Annotated[str, AfterValidator(_glob)]
RegexText = Annotated[str, AfterValidator(_regex)]
HeaderName = Annotated[str, AfterValidator(_header_name)]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UnorderedRule(_Rule):
    path: GlobText
    # The member naming an item; without it the items are compared as a multiset.
    key: str | None = None


class ToleranceRule(_Rule):
    paths: Annotated[list[GlobText], Field(min_length=1)]
    absolute: Annotated[float, Field(ge=0)] = 0.0
    relative: Annotated[float, Field(ge=0, lt=1)] = 0.0
    # Strings holding decimals ("12.50") compare as numbers, when both sides are strings.
    decimal: bool = False

    @model_validator(mode="after")
    def _does_something(self) -> ToleranceRule:
        if not (self.absolute or self.relative or self.decimal):
            raise ValueError("sets no tolerance: give 'absolute', 'relative' or 'decimal: true'")
        return self


class NormaliseRule(_Rule):
    pattern: RegexText
    replace: str = "*"
    # Without paths: every string value except critical fields.
    paths: list[GlobText] | None = None

    @field_validator("paths")
    @classmethod
    def _not_empty(cls, value: list[str] | None) -> list[str] | None:
        if value == []:
            raise ValueError("is empty; leave it out to apply to every string value")
        return value


class HeaderRules(_Rule):
    # None keeps the defaults' choice; "all" compares every header but the ignored ones.
    compare: list[HeaderName] | Literal["all"] | None = None
    ignore: list[HeaderName] = []


class TextRules(_Rule):
    # Regular expressions masked (replaced by '*') in HTML and text bodies before comparing.
    mask: list[RegexText] = []


class CompareRules(_Rule):
    ignore: list[GlobText] = []
    critical: list[GlobText] = []
    unordered: list[UnorderedRule] = []
    tolerance: list[ToleranceRule] = []
    normalise: list[NormaliseRule] = []
    headers: HeaderRules = HeaderRules()
    text: TextRules = TextRules()
    links: list[GlobText] | None = None
    local_hosts: list[str] = []

    @field_validator("local_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        return [v.lower() for v in value]


def _location(error: ErrorDetails) -> str:
    out = ""
    for part in error["loc"]:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "list[", "literal[")):
            out += f".{part}" if out else str(part)
    return out


def parse_rules(data: object, *, source: str = "compare") -> CompareRules:
    """Validate a YAML mapping; a problem is reported as ``source.field: message``."""
    if data is None:
        return CompareRules()
    try:
        return CompareRules.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _location(first)
        field = f"{source}.{where}" if where else source
        message = str(first["msg"]).removeprefix("Value error, ")
        more = len(exc.errors()) - 1
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise RulesInvalid(field, message) from exc
