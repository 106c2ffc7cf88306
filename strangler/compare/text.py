"""HTML and plain text compared as normalised text.

Normalising: CSRF tokens (hidden inputs, meta tags, ``csrfToken: "..."`` in scripts),
``nonce`` attributes and the route's mask patterns are replaced by ``*``; runs of
whitespace become one space, and whitespace between tags goes. HTML is then cut into
tokens (a tag, or the text between two tags) and compared token by token; a difference's
key is the chain of enclosing elements (``@html:html>body>main>div#cart>p``), so that noise
and clusters are counted per part of the page, not per page. Plain text compares by line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from strangler.compare.model import Difference, DiffKind
from strangler.compare.redact import redact_text
from strangler.compare.values import MAX_SHOWN_CHARS

__all__ = ["MAX_TEXT_HUNKS", "diff_html", "diff_text", "html_tokens", "normalise_text"]

# Hunks reported per body: the first few locate the change; the rest repeat it.
MAX_TEXT_HUNKS = 5
_MASK = "*"
_TAG_WITH_CSRF = re.compile(r"<[a-zA-Z][^>]*csrf[^>]*>", re.IGNORECASE)
_VALUE_ATTRIBUTE = re.compile(r"""(\b(?:value|content)\s*=\s*)("[^"]*"|'[^']*'|[^\s>]+)""")
_NONCE = re.compile(r"""(\bnonce\s*=\s*)("[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
_SCRIPT_CSRF = re.compile(r"""((?:csrf|xsrf)[\w-]*["']?\s*[:=]\s*["'])[^"']*""", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_BETWEEN_TAGS = re.compile(r">\s+<")
_TOKENS = re.compile(r"<[^>]*>|[^<]+")
_OPEN = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>")
_CLOSE = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_ID = re.compile(r"""\bid\s*=\s*["']?([^"'\s>]+)""")
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)


def normalise_text(text: str, masks: Sequence[re.Pattern[str]], *, html: bool) -> str:
    if html:
        text = _TAG_WITH_CSRF.sub(lambda m: _VALUE_ATTRIBUTE.sub(rf'\1"{_MASK}"', m[0]), text)
        text = _NONCE.sub(rf'\1"{_MASK}"', text)
    text = _SCRIPT_CSRF.sub(rf"\1{_MASK}", text)
    for mask in masks:
        text = mask.sub(_MASK, text)
    if html:
        return _BETWEEN_TAGS.sub("><", _SPACE.sub(" ", text)).strip()
    return "\n".join(_SPACE.sub(" ", line).strip() for line in text.splitlines())


def html_tokens(text: str) -> list[str]:
    return [t.strip() for t in _TOKENS.findall(text) if t.strip()]


def _shown(tokens: Sequence[str]) -> str | None:
    if not tokens:
        return None
    text = " ".join(tokens)
    if len(text) > MAX_SHOWN_CHARS:
        text = f"{text[:MAX_SHOWN_CHARS]}… ({len(text)} chars)"
    return redact_text(text)


def _contexts(tokens: Sequence[str], wanted: set[int]) -> dict[int, str]:
    """The enclosing elements at each wanted token index, as ``html>body>div#id``."""
    stack: list[str] = []
    out: dict[int, str] = {}
    for index, token in enumerate(tokens):
        if index in wanted:
            out[index] = ">".join(stack)
            if len(out) == len(wanted):
                break
        if closing := _CLOSE.fullmatch(token):
            name = closing[1].lower()
            names = [entry.split("#")[0] for entry in stack]
            if name in names:
                del stack[len(names) - 1 - names[::-1].index(name) :]
        elif (opening := _OPEN.fullmatch(token)) and not token.endswith("/>"):
            name = opening[1].lower()
            if name not in _VOID:
                ident = _ID.search(opening[2])
                stack.append(f"{name}#{ident[1]}" if ident else name)
    return out


_KINDS = {"replace": DiffKind.VALUE, "delete": DiffKind.MISSING, "insert": DiffKind.EXTRA}


def diff_html(base: str, candidate: str) -> list[Difference]:
    """Both already normalised."""
    tokens_a, tokens_b = html_tokens(base), html_tokens(candidate)
    matcher = difflib.SequenceMatcher(None, tokens_a, tokens_b, autojunk=False)
    hunks = [op for op in matcher.get_opcodes() if op[0] != "equal"][:MAX_TEXT_HUNKS]
    where = _contexts(tokens_a, {a0 for _, a0, _, _, _ in hunks})
    out = []
    for tag, a0, a1, b0, b1 in hunks:
        context = where.get(a0, "")
        out.append(
            Difference(
                f"@html:{context}@{a0}",
                f"@html:{context}",
                _KINDS[tag],
                _shown(tokens_a[a0:a1]),
                _shown(tokens_b[b0:b1]),
            )
        )
    return out


def diff_text(base: str, candidate: str) -> list[Difference]:
    """Both already normalised."""
    lines_a, lines_b = base.split("\n"), candidate.split("\n")
    matcher = difflib.SequenceMatcher(None, lines_a, lines_b, autojunk=False)
    hunks = [op for op in matcher.get_opcodes() if op[0] != "equal"][:MAX_TEXT_HUNKS]
    return [
        Difference(
            f"@text:L{a0 + 1}",
            "@text",
            _KINDS[tag],
            _shown(lines_a[a0:a1]),
            _shown(lines_b[b0:b1]),
        )
        for tag, a0, a1, b0, b1 in hunks
    ]
