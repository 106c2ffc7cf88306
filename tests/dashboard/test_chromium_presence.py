"""Without Chromium the browser tests skip, saying how to install it, or fail where CI
requires them (``STRANGLER_REQUIRE_CHROMIUM=1``): never a silent pass."""

from __future__ import annotations

import shutil

import pytest

from tests.dashboard import conftest
from tests.dashboard.conftest import MISSING, REQUIRE_VARIABLE, chromium_or_skip


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda *_args, **_kwargs: None)
    monkeypatch.setattr(conftest, "_skipped", [])


@pytest.mark.usefixtures("no_chromium")
def test_without_chromium_the_tests_skip_naming_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(REQUIRE_VARIABLE, raising=False)

    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium") as skipped:
        chromium_or_skip()

    assert "did NOT run" in str(skipped.value)
    assert conftest._skipped == [MISSING]  # the terminal summary's banner


@pytest.mark.usefixtures("no_chromium")
def test_without_chromium_the_tests_fail_where_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_VARIABLE, "1")

    with pytest.raises(pytest.fail.Exception, match=f"{REQUIRE_VARIABLE}=1 requires"):
        chromium_or_skip()


def test_with_chromium_its_path_is_found() -> None:
    assert chromium_or_skip().endswith("chromium")
