"""Checks on API answers that several contract modules make."""

from __future__ import annotations

from typing import Any

__all__ = ["assert_invalid"]


def assert_invalid(response: Any, field: str) -> None:
    """``response`` is the 400 ``validation_error`` naming ``field``."""
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["fields"]
