"""``${NAME}`` and ``${NAME:-default}`` in the string values of a configuration file.

Route tables and migration plans name URLs and ports that differ between a laptop, CI and
production; with a reference the environment moves them (``MONOLITH_PORT=9100`` moves the
monolith, the proxy's upstream and the plan's node together) and the file stays one file.

Only the braced forms expand, the way Docker Compose reads them: ``${NAME}`` is the
variable's value, refused when it is unset or empty; ``${NAME:-default}`` the default then.
``$$`` is a literal dollar; a ``$`` before anything else stays as written (a JSONPath's
``$.x``, a regular expression's ``$``). A default holds no reference (``${A:-${B}}`` is
refused): one level is all a port or a URL needs, and a nested one would hide which
variable decides. Keys are never expanded, only values; the caller keeps the written text
(an edited table keeps its ``${...}``) and expands what it parses.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

__all__ = ["ExpansionError", "expand_text", "expand_values"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ExpansionError(ValueError):
    """A reference that cannot expand; ``loc`` is the value's place (keys and indices)."""

    def __init__(self, message: str, *, variable: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.variable = variable
        self.loc: tuple[str | int, ...] = ()


def expand_text(text: str, env: Mapping[str, str] | None = None) -> str:
    """``text`` with its references replaced from ``env`` (default: ``os.environ``)."""
    environ = os.environ if env is None else env
    if "$" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        start = text.find("$", i)
        if start < 0:
            out.append(text[i:])
            break
        out.append(text[i:start])
        following = text[start + 1 : start + 2]
        if following == "$":
            out.append("$")
            i = start + 2
        elif following == "{":
            value, i = _reference(text, start, environ)
            out.append(value)
        else:
            out.append("$")
            i = start + 1
    return "".join(out)


def _reference(text: str, start: int, env: Mapping[str, str]) -> tuple[str, int]:
    """The value of the reference at ``text[start]`` (``${``) and the index after it."""
    end = text.find("}", start)
    if end < 0:
        raise ExpansionError(f"{text[start:]!r} has no closing '}}'; write $$ for a literal dollar")
    body = text[start + 2 : end]
    name, sep, default = body.partition(":-")
    if not _NAME.fullmatch(name):
        raise ExpansionError(
            f"'${{{body}}}' is not a reference: write ${{NAME}} or ${{NAME:-default}} "
            "(letters, digits, _), or $$ for a literal dollar"
        )
    if "${" in default:
        raise ExpansionError(
            f"'{text[start:]}': a default cannot hold another reference (no nesting)",
            variable=name,
        )
    value = env.get(name)
    if value:
        return value, end + 1
    if sep:
        return default, end + 1
    state = "is empty" if value == "" else "is not set"
    raise ExpansionError(
        f"${{{name}}} {state} and has no default; set {name} in the environment or write "
        f"${{{name}:-default}}",
        variable=name,
    )


def expand_values(data: object, env: Mapping[str, str] | None = None) -> object:
    """A copy of parsed YAML ``data`` with every string value expanded (keys as they are).

    Raises :class:`ExpansionError` with ``loc`` naming the value (``("upstreams",
    "catalog", "url")``), for the caller to name the file, entry and field.
    """
    environ = os.environ if env is None else env
    return _walk(data, environ, ())


def _walk(data: object, env: Mapping[str, str], loc: tuple[str | int, ...]) -> object:
    if isinstance(data, str):
        try:
            return expand_text(data, env)
        except ExpansionError as exc:
            exc.loc = loc
            raise
    if isinstance(data, dict):
        return {key: _walk(value, env, (*loc, str(key))) for key, value in data.items()}
    if isinstance(data, list):
        return [_walk(value, env, (*loc, index)) for index, value in enumerate(data)]
    return data
