"""Structural differences between two parsed JSON documents, under a route's rules.

Member order never matters. Numbers compare by value (``1`` equals ``1.0``); ``true`` is
not ``1``. Lists compare by position unless a rule makes them sets; a list whose items are
the same in another order gives one ``order`` difference; lists of different lengths give
one ``length`` difference and their items are aligned (``difflib``) so that one inserted
item does not turn every later one into a difference.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from typing import Any

from strangler.compare.compiled import CompiledRules, NodeRule
from strangler.compare.model import Difference, DiffKind
from strangler.compare.paths import child_key
from strangler.compare.values import TYPES, canonical, same_scalar, show

__all__ = ["MAX_DIFFERENCES", "diff_json"]

# Differences kept per comparison: a wholly different page would otherwise list thousands;
# past a hundred a person reads the first ones and the signature is what aggregates.
MAX_DIFFERENCES = 100
_ROOT = NodeRule()


class _Walk:
    __slots__ = ("out", "rules", "truncated")

    def __init__(self, rules: CompiledRules) -> None:
        self.rules = rules
        self.out: list[Difference] = []
        self.truncated = False

    def emit(
        self,
        path: str,
        key: str,
        kind: DiffKind,
        a: Any,
        b: Any,
        *,
        critical: bool,
        secret: bool = False,
        present: tuple[bool, bool] = (True, True),
        detail: str = "",
    ) -> None:
        if len(self.out) >= MAX_DIFFERENCES:
            self.truncated = True
            return
        base = show(a, secret=secret) if present[0] else None
        candidate = show(b, secret=secret) if present[1] else None
        self.out.append(
            Difference(path or "$", key or "$", kind, base, candidate, critical, detail)
        )

    def node(self, a: Any, b: Any, key: str, path: str, ignored: bool, critical: bool) -> None:
        rule = self.rules.node(key) if key else _ROOT
        critical = critical or rule.critical
        ignored = (ignored or rule.ignored) and not critical
        type_a, type_b = TYPES.get(type(a), "other"), TYPES.get(type(b), "other")
        if type_a != type_b:
            detail = ""
            if rule.tolerance is not None:
                detail = f"tolerance not applied: {type_a} vs {type_b}"
            self.emit(
                path, key, DiffKind.TYPE, a, b, critical=critical, secret=rule.secret, detail=detail
            )
        elif type_a == "object":
            self.members(a, b, key, path, ignored, critical)
        elif type_a == "array":
            self.items(a, b, key, path, rule, ignored, critical)
        elif a != b and not same_scalar(a, b, type_a, rule, critical) and not ignored:
            self.emit(path, key, DiffKind.VALUE, a, b, critical=critical, secret=rule.secret)

    def members(
        self,
        a: dict[str, Any],
        b: dict[str, Any],
        key: str,
        path: str,
        ignored: bool,
        critical: bool,
    ) -> None:
        for name, value_a in a.items():
            if name in b:
                value_b = b[name]
                if (
                    type(value_a) is type(value_b)
                    and value_a == value_b
                    and (type(value_a) is not dict and type(value_a) is not list)
                ):
                    continue
                self.node(
                    value_a, value_b, child_key(key, name), child_key(path, name), ignored, critical
                )
            else:
                self.absent(
                    DiffKind.MISSING, value_a, child_key(key, name), child_key(path, name), critical
                )
        for name, value_b in b.items():
            if name not in a:
                self.absent(
                    DiffKind.EXTRA, value_b, child_key(key, name), child_key(path, name), critical
                )

    def absent(self, kind: DiffKind, value: Any, key: str, path: str, critical: bool) -> None:
        rule = self.rules.node(key)
        present = (kind is DiffKind.MISSING, kind is DiffKind.EXTRA)
        self.emit(
            path,
            key,
            kind,
            value,
            value,
            critical=critical or rule.critical,
            secret=rule.secret,
            present=present,
        )

    def items(
        self,
        a: list[Any],
        b: list[Any],
        key: str,
        path: str,
        rule: NodeRule,
        ignored: bool,
        critical: bool,
    ) -> None:
        item_key = key + "[]"
        if rule.unordered:
            if rule.set_key is None:
                self.multiset(a, b, item_key, path, critical)
                return
            keyed_a, keyed_b = _keyed(a, rule.set_key), _keyed(b, rule.set_key)
            if keyed_a is not None and keyed_b is not None:
                self.keyed(keyed_a, keyed_b, item_key, path, rule.set_key, ignored, critical)
                return
        if len(a) == len(b):
            mark = len(self.out)
            differing = 0  # items with a difference: a reordering moves at least two
            for index, (item_a, item_b) in enumerate(zip(a, b, strict=True)):
                if (
                    type(item_a) is type(item_b)
                    and item_a == item_b
                    and (type(item_a) is not dict and type(item_a) is not list)
                ):
                    continue
                before = len(self.out)
                self.node(item_a, item_b, item_key, f"{path}[{index}]", ignored, critical)
                differing += len(self.out) > before
            if differing >= 2 and _same_items(a, b):
                del self.out[mark:]
                if not ignored:
                    self.emit(
                        path,
                        key,
                        DiffKind.ORDER,
                        a,
                        b,
                        critical=critical,
                        detail="same items in another order",
                    )
            return
        canon_a, canon_b = [canonical(v) for v in a], [canonical(v) for v in b]
        matcher = difflib.SequenceMatcher(None, canon_a, canon_b, autojunk=False)
        missing: list[int] = []
        extra: list[int] = []
        mark = len(self.out)
        for tag, a0, a1, b0, b1 in matcher.get_opcodes():
            paired = min(a1 - a0, b1 - b0) if tag == "replace" else 0
            for offset in range(paired):
                self.node(
                    a[a0 + offset],
                    b[b0 + offset],
                    item_key,
                    f"{path}[{a0 + offset}]",
                    ignored,
                    critical,
                )
            missing.extend(range(a0 + paired, a1))
            extra.extend(range(b0 + paired, b1))
        if not ignored:
            detail = _unmatched("base", missing) + _unmatched("candidate", extra)
            self.out.insert(
                mark,
                Difference(
                    path or "$",
                    key or "$",
                    DiffKind.LENGTH,
                    str(len(a)),
                    str(len(b)),
                    critical,
                    detail.strip("; "),
                ),
            )
            if len(self.out) > MAX_DIFFERENCES:
                del self.out[MAX_DIFFERENCES:]
                self.truncated = True

    def keyed(
        self,
        a: dict[Any, Any],
        b: dict[Any, Any],
        item_key: str,
        path: str,
        field: str,
        ignored: bool,
        critical: bool,
    ) -> None:
        for ident, item_a in a.items():
            where = f"{path}[{field}={json.dumps(ident, ensure_ascii=False)}]"
            if ident in b:
                self.node(item_a, b[ident], item_key, where, ignored, critical)
            else:
                self.absent(DiffKind.MISSING, item_a, item_key, where, critical)
        for ident, item_b in b.items():
            if ident not in a:
                where = f"{path}[{field}={json.dumps(ident, ensure_ascii=False)}]"
                self.absent(DiffKind.EXTRA, item_b, item_key, where, critical)

    def multiset(
        self, a: list[Any], b: list[Any], item_key: str, path: str, critical: bool
    ) -> None:
        canon_a, canon_b = [canonical(v) for v in a], [canonical(v) for v in b]
        left = Counter(canon_a)
        left.subtract(canon_b)
        for index, text in enumerate(canon_a):
            if left[text] > 0:
                left[text] -= 1
                self.absent(DiffKind.MISSING, a[index], item_key, f"{path}[{index}]", critical)
        right = Counter(canon_b)
        right.subtract(canon_a)
        for index, text in enumerate(canon_b):
            if right[text] > 0:
                right[text] -= 1
                self.absent(DiffKind.EXTRA, b[index], item_key, f"{path}[{index}]", critical)


def _keyed(items: list[Any], field: str) -> dict[Any, Any] | None:
    """Items by their key member, or None when one lacks a scalar key or a key repeats."""
    out: dict[Any, Any] = {}
    for item in items:
        if not isinstance(item, dict):
            return None
        ident = item.get(field)
        if not isinstance(ident, str | int | float) or isinstance(ident, bool) or ident in out:
            return None
        out[ident] = item
    return out


def _unmatched(side: str, indexes: list[int]) -> str:
    if not indexes:
        return ""
    shown = ", ".join(f"[{i}]" for i in indexes[:10]) + (", ..." if len(indexes) > 10 else "")
    return f"only in the {side}: {shown}; "


def _same_items(a: list[Any], b: list[Any]) -> bool:
    scalars = (str, int, float, bool, type(None))
    if all(type(v) in scalars for v in a) and all(type(v) in scalars for v in b):
        # The type name keeps true apart from 1; 1 and 1.0 are one number, as elsewhere.
        return Counter((TYPES[type(v)], v) for v in a) == Counter((TYPES[type(v)], v) for v in b)
    return sorted(canonical(v) for v in a) == sorted(canonical(v) for v in b)


def diff_json(base: Any, candidate: Any, rules: CompiledRules) -> tuple[list[Difference], bool]:
    """The differences between two parsed documents, and whether the list was cut short."""
    walk = _Walk(rules)
    walk.node(base, candidate, "", "", False, False)
    return walk.out, walk.truncated
