"""Editing a YAML document by hand's rules: its indentation, comments and blank lines kept.

ruamel.yaml's round-trip mode keeps comments and quoting; what it does not know is the file's
own indentation (it writes its defaults) and where a key added at the end of a block should go
relative to the comments that followed the block's old last line. Both are here, for
:mod:`strangler.routes_file`.
"""

from __future__ import annotations

import itertools
import re

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

__all__ = ["round_trip_yaml", "set_keeping_layout"]

# Long enough that ruamel never folds a long line of the file when it writes it back.
_NO_WRAP = 4096


def round_trip_yaml(text: str) -> YAML:
    """A round-trip YAML for ``text`` that writes it back in the file's own indentation."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = _NO_WRAP
    mapping, sequence, offset = _guess_indent(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


_KEY_OPENING_BLOCK = re.compile(r"^(?P<indent> *)[^\s#-][^#]*:\s*(#.*)?$")
_CONTENT = re.compile(r"^(?P<indent> *)(?P<dash>- +)?\S")


def _guess_indent(text: str) -> tuple[int, int, int]:
    """The file's own indentation (mapping, sequence, dash offset), so writing it back does
    not re-indent lines nobody changed. Defaults: the style of the documented example."""
    mapping: int | None = None
    sequence: tuple[int, int] | None = None
    lines = [line for line in text.splitlines() if line.strip() and line.lstrip()[0] != "#"]
    for opener, following in itertools.pairwise(lines):
        key = _KEY_OPENING_BLOCK.match(opener)
        content = _CONTENT.match(following)
        if key is None or content is None:
            continue
        depth = len(content["indent"]) - len(key["indent"])
        if content["dash"] and sequence is None and depth >= 0:
            sequence = (depth + len(content["dash"]), depth)
        elif not content["dash"] and mapping is None and depth > 0:
            mapping = depth
    seq, offset = sequence or (4, 2)
    return mapping or 2, seq, offset


def _trailing_slot(node: CommentedMap | CommentedSeq) -> tuple[list[object], int] | None:
    """The comment slot of the last line of a block ``node``: the trailing comment there
    carries the blank lines and comments that follow the node in the file."""
    while True:
        if not node or node.fa.flow_style():
            return None
        if isinstance(node, CommentedMap):
            last: object = list(node)[-1]
            index = 2
        else:
            last, index = len(node) - 1, 0
        value = node[last]
        if isinstance(value, CommentedMap | CommentedSeq) and value and not value.fa.flow_style():
            node = value
            continue
        slot = node.ca.items.get(last)
        return (slot, index) if slot is not None and len(slot) > index else None


def _append(mapping: CommentedMap, key: str, value: object) -> None:
    """Add ``key`` at the end of a block ``mapping``, keeping what followed the old last line
    (blank lines, the next entry's comments) after the new one instead of above it."""
    found = _trailing_slot(mapping)
    mapping[key] = value
    if found is None:
        return
    slot, index = found
    token = slot[index]
    if not isinstance(token, CommentToken) or "\n" not in token.value:
        return
    line_end = token.value.index("\n") + 1
    head, rest = token.value[:line_end], token.value[line_end:]
    if not rest:
        return
    if head.strip():
        token.value = head
    else:
        slot[index] = None
    # The new last line is the last key of ``value`` when that is a block mapping itself.
    holder, last = mapping, key
    while isinstance(holder[last], CommentedMap) and holder[last]:
        holder, last = holder[last], list(holder[last])[-1]
    holder.ca.items[last] = [None, None, CommentToken("\n" + rest, CommentMark(0), None), None]


def set_keeping_layout(mapping: CommentedMap, key: str, value: object) -> None:
    """``mapping[key] = value``: in place when the key is there, else appended after the
    last line with what followed that line kept below the new one."""
    if key in mapping:
        mapping[key] = value  # in place: the line keeps its position and comment
    else:
        _append(mapping, key, value)
