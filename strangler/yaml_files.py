"""Reading the toolkit's YAML files (stack, plans): a mapping or an error saying what to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

__all__ = ["first_error", "read_mapping"]


def read_mapping(
    path: Path, *, error: type[ValueError], what: str, expected: str
) -> dict[Any, Any]:
    """The YAML mapping in ``path``; ``error`` naming the file when it is not one.

    ``what`` names the file for a person ("the plan"); ``expected`` says what the mapping
    must hold ("a mapping with a 'processes' entry").
    """
    try:
        data: Any = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror}).") from exc
    except YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise error(f"{path}: expected {expected}.")
    return data


def first_error(exc: ValidationError) -> tuple[tuple[int | str, ...], str]:
    """Where the first validation error is, and its message without pydantic's prefix."""
    error = exc.errors()[0]
    return tuple(error["loc"]), error["msg"].removeprefix("Value error, ")
