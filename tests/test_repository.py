"""The repository stands on its own: nothing in it refers to a file a clone does not have.

A user who clones the project gets the tracked files and nothing else, so every tracked text
file is checked for:

- paths into the machine it was written on (a sibling ``shared`` folder, a workspace root);
- documents named by path or in capitals (``docs/sync.md``, ``README.md``) that are not in
  the repository;
- in Markdown, links to files that resolve outside the repository or do not exist in it, and
  anchors that no heading of the target makes.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path, PurePosixPath

import pytest

REPO = Path(__file__).resolve().parents[1]
# Not scanned: its examples name outside and missing files on purpose.
THIS_FILE = Path(__file__).resolve().relative_to(REPO).as_posix()

_OUTSIDE_PATHS = re.compile(r"\.\./shared\b|(?<![\w.-])/work/")
# A document named in prose or code: with a directory, or an upper-case stem (README.md).
# Documents the toolkit writes into a team's project (strangler extract's checklist): named
# in the code that writes them, never in this repository.
_WRITTEN_INTO_A_TEAMS_PROJECT = frozenset({"EXTRACT_CHECKLIST.md"})
_DOCUMENT_NAME = re.compile(r"(?<![\w./-])((?:[\w.-]+/)+[\w.-]+\.md|[A-Z][A-Z0-9_-]*\.md)\b")
_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@cache
def tracked_files() -> frozenset[str]:
    """Every file git tracks, as repository-relative POSIX paths."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z"],
            cwd=REPO,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files are unknown")
    return frozenset(name for name in listing.decode().split("\0") if name)


@cache
def tracked_directories() -> frozenset[str]:
    return frozenset(
        str(parent) for name in tracked_files() for parent in PurePosixPath(name).parents
    )


def text_files() -> Iterator[tuple[str, str]]:
    """(path, text) of every tracked file that is UTF-8 text and still on disk, but this one."""
    for name in sorted(tracked_files() - {THIS_FILE}):
        path = REPO / name
        if not path.is_file():
            continue  # deleted in the working tree, not yet committed
        data = path.read_bytes()
        if b"\0" in data:
            continue
        try:
            yield name, data.decode("utf-8")
        except UnicodeDecodeError:
            continue


def resolve(source: str, target: str) -> str | None:
    """``target`` as written in ``source``, as a repository-relative path; None outside it."""
    if target.startswith("/"):
        return None
    parts: list[str] = list(PurePosixPath(source).parent.parts)
    for part in PurePosixPath(target).parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts) or "."


def exists(path: str) -> bool:
    return path in tracked_files() or path in tracked_directories()


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = "".join(
        ch
        for ch in text.lower()
        if ch in " -_" or unicodedata.category(ch)[0] in "LN"  # letters and numbers
    )
    return text.replace(" ", "-")


@cache
def anchors(path: str) -> frozenset[str]:
    """Every anchor the headings of Markdown file ``path`` make, duplicates numbered."""
    text = _FENCE.sub("", (REPO / path).read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    found = set()
    for heading in _HEADING.findall(text):
        anchor = github_anchor(heading)
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else f"{anchor}-{count}")
    return frozenset(found)


def markdown_targets(text: str) -> Iterator[str]:
    """Link targets of a Markdown text, outside code blocks and code spans."""
    prose = _CODE_SPAN.sub("", _FENCE.sub("", text))
    yield from _INLINE_LINK.findall(prose)
    yield from _REFERENCE_LINK.findall(prose)


def link_problem(source: str, target: str) -> str | None:
    """What is wrong with the link ``target`` in Markdown file ``source``, or None."""
    if _SCHEME.match(target) or target.startswith("//"):
        return None  # a URL: a page on the web, not a file of the clone
    location, _, anchor = target.partition("#")
    location = location.split("?", 1)[0]
    path = resolve(source, location) if location else source
    if path is None:
        return f"{target}: outside the repository"
    if not exists(path):
        return f"{target}: {path} is not in the repository"
    has_headings = path.endswith(".md") and path in tracked_files()
    if anchor and has_headings and anchor.lower() not in anchors(path):
        return f"{target}: no heading of {path} makes #{anchor}"
    return None


def test_no_file_refers_to_paths_outside_the_repository() -> None:
    found = [
        f"{name}:{text.count(chr(10), 0, match.start()) + 1}: {match.group(0)}"
        for name, text in text_files()
        for match in _OUTSIDE_PATHS.finditer(text)
    ]
    assert found == []


def test_every_document_named_is_in_the_repository() -> None:
    missing = []
    for name, text in text_files():
        for match in _DOCUMENT_NAME.finditer(text):
            document = match.group(1)
            here = resolve(name, document)
            if document.rsplit("/", 1)[-1] in _WRITTEN_INTO_A_TEAMS_PROJECT:
                continue
            if not (here is not None and exists(here)) and not exists(document):
                line = text.count("\n", 0, match.start()) + 1
                missing.append(f"{name}:{line}: {document}")
    assert missing == []


def test_markdown_links_stay_inside_the_repository_and_resolve() -> None:
    problems = [
        f"{name}: {problem}"
        for name, text in text_files()
        if name.endswith(".md")
        for target in markdown_targets(text)
        if (problem := link_problem(name, target)) is not None
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("README.md", "docs/sync.md", "docs/sync.md"),
        ("docs/architecture.md", "../proxy/config.py", "proxy/config.py"),
        ("docs/architecture.md", "./sync.md", "docs/sync.md"),
        ("docs/architecture.md", "../../shared/notes.md", None),
        ("README.md", "../elsewhere.md", None),
        ("README.md", "/etc/passwd", None),
    ],
)
def test_resolve_keeps_paths_inside_the_repository(
    source: str, target: str, expected: str | None
) -> None:
    assert resolve(source, target) == expected


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Limits at the edge", "limits-at-the-edge"),
        ("Who takes the writes: `write_owner`", "who-takes-the-writes-write_owner"),
        ("Data sync (`strangler.sync`)", "data-sync-stranglersync"),
        (
            "Django behind the proxy: sessions, CSRF, TLS",
            "django-behind-the-proxy-sessions-csrf-tls",
        ),
    ],
)
def test_github_anchor(heading: str, anchor: str) -> None:
    assert github_anchor(heading) == anchor


def test_the_checks_see_what_they_look_for() -> None:
    assert _OUTSIDE_PATHS.search("see ../shared/DESIGN.md")
    assert _OUTSIDE_PATHS.search("cd /work/main")
    assert not _OUTSIDE_PATHS.search("the shared secret; a teamwork/ folder")
    names = [m.group(1) for m in _DOCUMENT_NAME.finditer("DESIGN.md, docs/sync.md and t.md")]
    assert names == ["DESIGN.md", "docs/sync.md"]
    text = "[a](x.md) `[b](y.md)`\n```\n[c](z.md)\n```\n[d]: <w.md>\n"
    assert sorted(markdown_targets(text)) == ["w.md", "x.md"]
