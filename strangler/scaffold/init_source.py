"""A Python file read for ``strangler init``: its syntax tree, and edits made on its text.

Edits are placed with the tree's positions and applied to the text itself, so the file keeps
its formatting and comments: nothing is regenerated from the tree. A list literal grows by
whole lines, indented as its own elements, in the file's own quotes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Edit", "ScaffoldError", "SourceFile", "append_lines", "apply_edits", "prepend_lines"]

Position = tuple[int, int]  # (line from 1, column in characters)


class ScaffoldError(Exception):
    """The project cannot be read as ``strangler init`` needs it; the message says what to fix."""


@dataclass(frozen=True)
class Edit:
    """Replace the text from ``start`` to ``end`` (equal: an insertion) with ``text``."""

    start: Position
    end: Position
    text: str


def apply_edits(source: str, edits: Iterable[Edit]) -> str:
    """``source`` with every edit made; edits at one position land in the order given."""
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: Position) -> int:
        line, column = position
        if line > len(lines):
            return len(source)
        return starts[line - 1] + column

    ordered = sorted(enumerate(edits), key=lambda item: (item[1].start, item[0]), reverse=True)
    for _, edit in ordered:
        text = edit.text
        at = offset(edit.start)
        if at == len(source) and source and not source.endswith("\n") and text:
            text = "\n" + text
        source = source[:at] + text + source[offset(edit.end) :]
    return source


class SourceFile:
    """One module's text and tree; ``relative`` names it in messages."""

    def __init__(self, path: Path, *, relative: str, text: str | None = None) -> None:
        self.path = path
        self.relative = relative
        self.exists = text is not None or path.is_file()
        try:
            self.text = (
                text
                if text is not None
                else (path.read_text(encoding="utf-8") if self.exists else "")
            )
        except (OSError, UnicodeDecodeError) as exc:
            raise ScaffoldError(f"{relative}: cannot read it ({exc}).") from None
        try:
            self.tree = ast.parse(self.text, filename=relative)
        except SyntaxError as exc:
            raise ScaffoldError(f"{relative}:{exc.lineno}: not valid Python ({exc.msg}).") from None
        self.lines = self.text.splitlines()

    # Reading

    def assignments(self, name: str) -> list[ast.stmt]:
        """Every statement anywhere in the module that binds or grows ``name``."""
        found: list[ast.stmt] = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            else:
                continue
            if any(isinstance(t, ast.Name) and t.id == name for t in _flatten(targets)):
                found.append(node)
        return found

    def mutated_in_place(self, name: str) -> ast.Call | None:
        """A call such as ``NAME.append(...)`` that changes the value behind ``name``."""
        for node in ast.walk(self.tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == name
            ):
                return node
        return None

    def literal_list(self, name: str) -> ast.List | ast.Tuple | None:
        """The list (or tuple) literal ``name`` is bound to at the top level, when that is the
        only statement binding it (later ``+=`` are fine: they extend what is written here)."""
        bindings = [s for s in self.assignments(name) if not isinstance(s, ast.AugAssign)]
        if len(bindings) != 1 or bindings[0] not in self.tree.body:
            return None
        value = getattr(bindings[0], "value", None)
        if not isinstance(value, ast.List | ast.Tuple) or self.mutated_in_place(name):
            return None
        return value

    def string_constant(self, name: str) -> str | None:
        """The string ``name`` is bound to at the top level, if it is one plain literal."""
        for statement in self.tree.body:
            if isinstance(statement, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in statement.targets
            ):
                value = statement.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    return value.value
        return None

    def strings(self) -> set[str]:
        return {
            node.value
            for node in ast.walk(self.tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }

    def calls(self, function: str) -> Iterator[ast.Call]:
        """Calls of ``function`` by its plain or dotted name (``x.function(...)``)."""
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                func = node.func
                if (isinstance(func, ast.Name) and func.id == function) or (
                    isinstance(func, ast.Attribute) and func.attr == function
                ):
                    yield node

    def imported_names(self) -> dict[str, str]:
        """Each top-level imported name, as bound here, with the module it comes from."""
        names: dict[str, str] = {}
        for statement in self.tree.body:
            if isinstance(statement, ast.Import):
                for alias in statement.names:
                    names[alias.asname or alias.name.partition(".")[0]] = alias.name
            elif isinstance(statement, ast.ImportFrom) and statement.level == 0:
                for alias in statement.names:
                    names[alias.asname or alias.name] = f"{statement.module}.{alias.name}"
        return names

    def star_import(self) -> ast.ImportFrom | None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                return node
        return None

    def quote(self) -> str:
        """The quote the file writes its strings with (double when it has none)."""
        single = double = 0
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                written = self.segment(node)
                if written.startswith(('"""', "'''")):  # docstrings say nothing of the style
                    continue
                first = written[:1]
                single += first == "'"
                double += first == '"'
        return "'" if single > double else '"'

    def segment(self, node: ast.expr | ast.stmt) -> str:
        return ast.get_source_segment(self.text, node) or ""

    # Positions

    def start(self, node: ast.expr | ast.stmt) -> Position:
        return node.lineno, self._column(node.lineno, node.col_offset)

    def end(self, node: ast.expr | ast.stmt) -> Position:
        line = node.end_lineno or node.lineno
        return line, self._column(line, node.end_col_offset or 0)

    def indent_of(self, line: int) -> str:
        text = self.lines[line - 1]
        return text[: len(text) - len(text.lstrip())]

    def import_line(self) -> int:
        """The line new imports go before: after the imports that open the module (after its
        docstring when it has none)."""
        line = 1
        for statement in self.tree.body:
            opening = _is_docstring(statement) and statement is self.tree.body[0]
            if isinstance(statement, ast.Import | ast.ImportFrom) or opening:
                line = (statement.end_lineno or statement.lineno) + 1
            else:
                break
        return line

    def _column(self, line: int, byte_column: int) -> int:
        # The tree counts columns in UTF-8 bytes; the text is edited in characters.
        return len(self.lines[line - 1].encode()[:byte_column].decode(errors="ignore"))


def append_lines(source: SourceFile, literal: ast.List | ast.Tuple, items: list[str]) -> list[Edit]:
    """Edits writing ``items`` (elements' source) after ``literal``'s last element, one a line;
    none when the literal is not written one element a line (the caller says to edit by hand)."""
    if not _one_a_line(literal):
        return []
    last = literal.elts[-1]
    end_line, end_column = source.end(last)
    edits = []
    if not source.lines[end_line - 1][end_column:].lstrip().startswith(","):
        edits.append(Edit((end_line, end_column), (end_line, end_column), ","))
    indent = source.indent_of(literal.elts[0].lineno)
    lines = "".join(f"{indent}{item},\n" for item in items)
    edits.append(Edit((end_line + 1, 0), (end_line + 1, 0), lines))
    return edits


def prepend_lines(
    source: SourceFile, literal: ast.List | ast.Tuple, items: list[str]
) -> list[Edit]:
    """Edits writing ``items`` before ``literal``'s first element, one a line; none when the
    literal is not written one element a line."""
    if not _one_a_line(literal):
        return []
    first = literal.elts[0].lineno
    indent = source.indent_of(first)
    lines = "".join(f"{indent}{item},\n" for item in items)
    return [Edit((first, 0), (first, 0), lines)]


def _one_a_line(literal: ast.List | ast.Tuple) -> bool:
    """Elements below the opening bracket and above the closing one."""
    if not literal.elts:
        return False
    first, last = literal.elts[0], literal.elts[-1]
    return first.lineno > literal.lineno and (last.end_lineno or 0) < (literal.end_lineno or 0)


def _flatten(targets: Iterable[ast.expr]) -> Iterator[ast.expr]:
    for target in targets:
        if isinstance(target, ast.Tuple | ast.List):
            yield from _flatten(target.elts)
        else:
            yield target


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )
