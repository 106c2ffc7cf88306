"""``strangler routes from-urlconf``: the storefront's URLconf as a route table, checked
against today's routes.yaml and, path by path, against Django's own ``resolve``."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from strangler.cli import main
from strangler.proxy.config import parse_table_config
from strangler.proxy.routing import RouteTable

REPOSITORY = Path(__file__).resolve().parents[2]
STOREFRONT = "monolith.settings"
TEST_PROJECT = "tests.strangler.urlconf_project.settings"


def generate(settings: str, *options: str, out: Path) -> dict[str, Any]:
    """The command's ``--json-report``, the table written to ``out``."""
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = main(
            [
                "routes",
                "from-urlconf",
                "--settings",
                settings,
                "--out",
                str(out),
                "--json-report",
                *options,
            ]
        )
    assert status == 0
    report: dict[str, Any] = json.loads(stdout.getvalue())
    return report


def resolved_corpus(settings: str) -> list[dict[str, str]]:
    """Concrete paths built from the URLconf, with the pattern Django resolves each to."""
    completed = subprocess.run(
        [sys.executable, "-m", "tests.strangler.urlconf_resolve"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": settings},
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    answers: list[dict[str, str]] = json.loads(completed.stdout)
    return answers


def route_table(path: Path) -> RouteTable:
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return RouteTable(parse_table_config(data, source=str(path)), source=str(path))


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[tuple[str, str], tuple[dict[str, Any], Path]]:
    """Each project's table and report, per pattern and per app (generated once)."""
    found = {}
    for settings in (STOREFRONT, TEST_PROJECT):
        for per in ("pattern", "app"):
            out = tmp_path_factory.mktemp("from-urlconf") / "routes.yaml"
            found[settings, per] = (generate(settings, "--per", per, out=out), out)
    return found


@pytest.fixture(scope="module")
def corpora() -> dict[str, list[dict[str, str]]]:
    return {settings: resolved_corpus(settings) for settings in (STOREFRONT, TEST_PROJECT)}


# The storefront


def test_per_app_reproduces_the_catalog_routes_of_todays_routes_yaml(tables) -> None:
    report, _ = tables[STOREFRONT, "app"]
    today = YAML(typ="safe").load((REPOSITORY / "routes.yaml").read_text(encoding="utf-8"))

    generated = {
        (route["kind"], route["pattern"])
        for route in report["routes"]
        if route["app"] == "catalog-api"
    }

    assert generated == {
        ("prefix" if "prefix" in route else "path", route.get("prefix") or route["path"])
        for route in today["routes"]
        if route["owner"] == "catalog"
    }


def test_per_app_names_the_catalog_routes_after_the_app_and_their_segment(tables) -> None:
    report, _ = tables[STOREFRONT, "app"]

    names = {route["pattern"]: route["name"] for route in report["routes"]}

    assert names["/api/v1/products/"] == "catalog-api-products"
    assert names["/api/v1/categories/"] == "catalog-api-categories"


def test_per_pattern_gives_each_catalog_api_view_a_route_named_after_its_url_name(tables) -> None:
    report, _ = tables[STOREFRONT, "pattern"]

    catalog = {
        route["name"]: (route["kind"], route["pattern"])
        for route in report["routes"]
        if route["app"] == "catalog-api"
    }

    assert catalog == {
        "catalog-api.category-list": ("path", "/api/v1/categories/"),
        "catalog-api.category-detail": ("path", "/api/v1/categories/<int:pk>/"),
        "catalog-api.product-list": ("path", "/api/v1/products/"),
        "catalog-api.product-detail": ("path", "/api/v1/products/<int:pk>/"),
        "catalog-api.product-by-slug": ("path", "/api/v1/products/by-slug/<slug:slug>/"),
    }


def test_every_route_is_in_mode_monolith_owned_by_the_legacy_upstream(tables) -> None:
    _, path = tables[STOREFRONT, "pattern"]

    table = route_table(path)

    assert table.legacy == "monolith"
    assert {(route.config.owner, route.config.mode) for route in table.routes} == {
        ("monolith", "monolith")
    }
    assert all(route.config.methods is None for route in table.routes)


def test_the_proxys_checker_passes_the_table_without_findings(tables, capfd) -> None:
    for per in ("pattern", "app"):
        _, path = tables[STOREFRONT, per]

        status = main(["routes", "check", str(path)])

        out, _ = capfd.readouterr()
        assert status == 0
        assert out.endswith(" 0 errors, 0 warnings\n")


def test_internal_paths_get_no_route(tables) -> None:
    report, _ = tables[STOREFRONT, "pattern"]

    assert not [r for r in report["routes"] if r["pattern"].startswith("/internal/")]


def test_the_key_converter_is_reported_as_read_as_int(tables) -> None:
    report, _ = tables[STOREFRONT, "pattern"]

    detail = next(
        entry
        for entry in report["inexpressible"]
        if entry["url_name"] == "catalog-api:product-detail"
    )

    assert detail["exactness"] == "approximated"
    assert detail["route"] == "catalog-api.product-detail"
    assert "DatabaseKeyConverter read as <int>" in detail["notes"][0]


# Django's resolve and the proxy's router agree, path by path


@pytest.mark.parametrize("per", ["pattern", "app"])
@pytest.mark.parametrize("settings", [STOREFRONT, TEST_PROJECT])
def test_the_proxy_routes_each_path_to_the_route_of_the_pattern_django_resolves(
    tables, corpora, settings: str, per: str
) -> None:
    report, path = tables[settings, per]
    table = route_table(path)
    expected: dict[tuple[str, str], str | None] = {
        (entry["django_route"], entry["view"]): None
        for entry in report["inexpressible"]
        if entry["route"] is None
    }
    for route in report["routes"]:
        for pattern in route["patterns"]:
            expected[pattern["django_route"], pattern["view"]] = route["name"]
    corpus = [answer for answer in corpora[settings] if not table.is_internal(answer["path"])]

    wrong = []
    for answer in corpus:
        matched = table.match("GET", answer["path"])
        name = matched.name if matched is not None else None
        if expected[answer["route"], answer["view"]] != name:
            wrong.append((answer["path"], answer["view"], name))

    assert len(corpus) > (1000 if settings == STOREFRONT else 40)
    assert wrong == []


# What the proxy cannot express


def test_the_report_says_what_became_of_each_inexpressible_pattern(tables) -> None:
    report, _ = tables[TEST_PROJECT, "pattern"]

    outcomes = {
        entry["url_name"]: (entry["exactness"], entry["outcome"], entry["route"])
        for entry in report["inexpressible"]
    }

    assert outcomes == {
        "blog:new": (
            "exact",
            "no route: Django answers its paths with blog/<slug:slug>/ "
            "(tests.strangler.urlconf_project.views.article_by_slug)",
            None,
        ),
        "blog:pages": (
            "widened",
            "no route: its prefix /blog/pages/ would take /blog/pages/, which Django answers "
            "with blog/<slug:slug>/ (blog:by-slug)",
            None,
        ),
        "color": ("widened", "widened to prefix /colors/", "color"),
        "shop-item": ("approximated", "approximated as /shop/<int:item>/", "shop-item"),
        "anywhere": ("legacy", "no route: left to the legacy route", None),
    }


def test_plain_regexes_uuids_and_includes_translate_exactly(tables) -> None:
    report, _ = tables[TEST_PROJECT, "pattern"]

    routes = {route["name"]: (route["kind"], route["pattern"]) for route in report["routes"]}

    assert routes["ticket"] == ("path", "/tickets/<uuid:ticket_id>/")
    assert routes["blog.archive-year"] == ("path", "/blog/archive/<int:year>/")
    assert routes["report"] == ("path", "/reports/<slug:name>.csv")
    assert routes["file"] == ("path", "/files/<path:path>")
    assert routes["blog.detail"] == ("path", "/blog/<int:pk>/")


def test_per_app_puts_the_namespaced_include_under_one_prefix(tables) -> None:
    report, _ = tables[TEST_PROJECT, "app"]

    blog = [route for route in report["routes"] if route["app"] == "blog"]

    assert [(route["name"], route["kind"], route["pattern"]) for route in blog] == [
        ("blog", "prefix", "/blog/")
    ]


def test_the_report_lines_go_to_stderr_and_the_table_to_stdout(capfd) -> None:
    status = main(["routes", "from-urlconf", "--settings", TEST_PROJECT])

    out, err = capfd.readouterr()
    assert status == 0
    assert YAML(typ="safe").load(out)["legacy"] == "monolith"
    assert (
        "strangler: colors/<hex:color>/ (color): widened to prefix /colors/ (custom converter "
        "tests.strangler.urlconf_project.urls.HexColorConverter (regex '[0-9a-f]{6}') has no "
        "equivalent among the proxy's converters)\n"
    ) in err
    assert err.endswith(
        "strangler: 13 URL patterns, 10 routes, 5 patterns not routed exactly as Django does "
        "(listed above)\n"
    )


def test_the_owner_upstream_and_its_url_are_the_teams(tmp_path: Path) -> None:
    out = tmp_path / "routes.yaml"

    generate(
        TEST_PROJECT,
        "--owner-upstream",
        "legacy-shop",
        "--upstream-url",
        "http://127.0.0.1:9100",
        out=out,
    )

    table = route_table(out)
    assert table.legacy == "legacy-shop"
    assert str(table.config.upstreams["legacy-shop"].url) == "http://127.0.0.1:9100"
    assert {route.config.owner for route in table.routes} == {"legacy-shop"}


# Errors


def test_a_settings_module_that_does_not_exist_is_a_clean_error(capfd) -> None:
    status = main(["routes", "from-urlconf", "--settings", "no_such_project.settings"])

    out, err = capfd.readouterr()
    assert status == 2
    assert out == ""
    assert err.startswith("strangler: cannot read the URLconf of no_such_project.settings: ")
    assert "No module named 'no_such_project'" in err
    assert "Traceback" not in err


def test_an_urlconf_that_does_not_exist_is_a_clean_error(capfd) -> None:
    status = main(
        ["routes", "from-urlconf", "--settings", TEST_PROJECT, "--urlconf", "no_such.urls"]
    )

    _, err = capfd.readouterr()
    assert status == 2
    assert "cannot load the URLconf: No module named 'no_such'" in err
    assert "Traceback" not in err


def test_without_settings_it_says_how_to_name_them(capfd, monkeypatch) -> None:
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)

    status = main(["routes", "from-urlconf"])

    _, err = capfd.readouterr()
    assert status == 2
    assert "--settings or $DJANGO_SETTINGS_MODULE" in err


def test_run_where_manage_py_is_it_reads_the_settings_manage_py_names(tmp_path: Path) -> None:
    """A team runs it in its monolith's directory, as `strangler init` and `extract`: no
    --settings needed when manage.py names them."""
    (tmp_path / "manage.py").write_text(
        f"import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', {TEST_PROJECT!r})\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(REPOSITORY)

    done = subprocess.run(
        [sys.executable, "-m", "strangler", "routes", "from-urlconf", "--per", "app"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert f"from ROOT_URLCONF of {TEST_PROJECT}" in done.stdout
    assert "routes:" in done.stdout
