"""A test failed by the plugin's own check (no sides configured, a bad rule, a missing
extra): the message alone, with neither a traceback nor the exception it was read from."""

from __future__ import annotations

from typing import NoReturn

import pytest

__all__ = ["fail"]


def fail(message: str) -> NoReturn:
    __tracebackhide__ = True
    # "from None": the message already says what the caught exception meant.
    raise pytest.fail.Exception(message, pytrace=False) from None
