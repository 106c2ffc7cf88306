"""Side-by-side comparison in a team's own tests: a pytest plugin, on as soon as the
toolkit is installed (the ``pytest11`` entry point ``strangler``).

    def test_the_product_page_is_the_same(side_by_side):
        side_by_side.request("GET", "/api/v1/products/42/")

    @pytest.mark.side_by_side(rules={"ignore": ["generated_at"]})
    def test_the_new_pricing_code_agrees(side_by_side):
        assert side_by_side.run(old_price, new_price, basket) == 12

``request`` sends one request to the base and to the candidate (``--strangler-base`` and
``--strangler-candidate``, or the ini options ``strangler_base`` / ``strangler_candidate``,
or ``STRANGLER_BASE`` / ``STRANGLER_CANDIDATE``); ``run`` calls two code paths the way
GitHub's Scientist does. Both judge with the comparison engine (``strangler.compare``) under
rules given per call, by the marker, or by the route table's ``compare:`` sections
(``--strangler-routes``, ``strangler_routes`` or ``STRANGLER_ROUTES``), and fail the test
with the difference clusters in the wording of ``strangler compare``.

pytest imports this module in every run of every project where the toolkit is installed,
so it imports nothing but pytest: the engine, pydantic and the HTTP client are imported
when a test first asks for the fixture (``strangler.pytest_plugin.sides``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from strangler.pytest_plugin.failures import fail
from strangler.pytest_plugin.settings import (
    ENVIRONMENT,
    OPTIONS,
    PluginSettings,
)

if TYPE_CHECKING:
    from strangler.pytest_plugin.sides import SideBySide

__all__ = ["pytest_addoption", "pytest_configure", "side_by_side"]

MARKER = "side_by_side"
# What the engine needs beyond the base install: the [cli] extra brings them.
_EXTRA_MODULES = frozenset({"pydantic", "pydantic_core", "rich", "ruamel"})
_MISSING_EXTRA = (
    "the side_by_side fixture needs the comparison engine's dependencies "
    "(pydantic, rich, ruamel.yaml): pip install 'strangler-toolkit[cli]' ({error})"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("strangler", "side-by-side comparison (strangler toolkit)")
    for name, (ini, help_text) in OPTIONS.items():
        group.addoption(
            f"--strangler-{name}",
            dest=ini,
            default=None,
            metavar="URL" if name != "routes" else "FILE",
            help=f"{help_text} (or the ini option {ini}, or ${ENVIRONMENT[ini]})",
        )
        parser.addini(ini, help_text, default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(rules=None, route=None): comparison rules (a strangler.compare 'compare:' "
        "mapping or CompareRules) and the route name for the side_by_side fixture in this test",
    )


def _setting(config: pytest.Config, ini: str) -> tuple[str, Path]:
    """The value and the directory a relative path in it is read from: the ini file's for
    the ini option, the directory pytest was started in for the others."""
    started = config.invocation_params.dir
    given = config.getoption(ini)
    if given:
        return str(given).strip(), started
    from_ini = str(config.getini(ini) or "").strip()
    if from_ini:
        return from_ini, config.inipath.parent if config.inipath else config.rootpath
    return os.environ.get(ENVIRONMENT[ini], "").strip(), started


def _settings(config: pytest.Config) -> PluginSettings:
    base, _ = _setting(config, "strangler_base")
    candidate, _ = _setting(config, "strangler_candidate")
    routes, directory = _setting(config, "strangler_routes")
    return PluginSettings(
        base=base, candidate=candidate, routes=directory / routes if routes else None
    )


@pytest.fixture
def side_by_side(request: pytest.FixtureRequest) -> Iterator[SideBySide]:
    """Compare two sides (two servers, or two code paths) in this test; see the module."""
    try:
        from strangler.pytest_plugin.sides import SideBySide
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in _EXTRA_MODULES:
            raise
        fail(_MISSING_EXTRA.format(error=exc))
    marker = request.node.get_closest_marker(MARKER)
    marked = dict(marker.kwargs) if marker is not None else {}
    unknown = sorted(set(marked) - {"rules", "route"})
    if marker is not None and marker.args:
        unknown.append("positional arguments")
    if unknown:
        fail(f"@pytest.mark.{MARKER} takes only rules= and route=, not {', '.join(unknown)}")
    sides = SideBySide(
        _settings(request.config),
        rules=marked.get("rules"),
        route=marked.get("route"),
    )
    try:
        yield sides
    finally:
        sides.close()
