"""The comparison engine's errors: one root, so a caller can catch the component as a whole.

CompareError                     the root
└── RulesInvalid (ValueError)    a rule set that cannot be used; names the field
    └── RuleRefused              well-formed, but would hide a missing, extra or type
                                 change, or a difference on a critical field
"""

from __future__ import annotations

__all__ = ["CompareError", "RuleRefused", "RulesInvalid"]


class CompareError(Exception):
    """Root of every error the comparison engine raises on purpose."""


class RulesInvalid(CompareError, ValueError):
    """A comparison rule set is malformed; ``field`` locates it (``tolerance[0].absolute``)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


class RuleRefused(RulesInvalid):
    """A rule that parses but is refused because of what it would hide; ``reason`` says what."""

    def __init__(self, field: str, reason: str) -> None:
        self.reason = reason
        super().__init__(field, f"refused: {reason}")
