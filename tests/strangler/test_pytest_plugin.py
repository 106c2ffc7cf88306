"""The pytest plugin (``strangler.pytest_plugin``), as a team meets it: a test file of
theirs run by pytest (``pytester``) with the plugin loaded from its entry point, against
real HTTP servers in threads."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from itertools import count

import pytest

from tests.strangler.compare.servers import Answer, Received, Server, product, serving

pytest_plugins = ["pytester"]


@pytest.fixture
def base() -> Iterator[Server]:
    with serving(product) as server:
        yield server


def _serve(**extra: object) -> Iterator[Server]:
    with serving(lambda received: product(received, **extra)) as server:
        yield server


@pytest.fixture
def same(base: Server) -> Iterator[Server]:
    yield from _serve()


@pytest.fixture
def dearer() -> Iterator[Server]:
    yield from _serve(price="10.99")


def _run(pytester: pytest.Pytester, test: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_team=test)
    # pytest-asyncio, installed here, warns in a run without its ini options: not ours.
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio", *args)


def _sides(base: Server, candidate: Server) -> tuple[str, ...]:
    return ("--strangler-base", base.url, "--strangler-candidate", candidate.url)


_PRODUCT = """
def test_product(side_by_side):
    side_by_side.request("GET", "/api/v1/products/1/")
"""


def test_a_request_both_sides_answer_alike_passes(
    pytester: pytest.Pytester, base: Server, same: Server
) -> None:
    result = _run(pytester, _PRODUCT, *_sides(base, same))

    result.assert_outcomes(passed=1)
    # Both sides got the request; the base a second time (its own noise, GET is safe).
    assert [r.target for r in same.received] == ["/api/v1/products/1/"]
    assert [r.target for r in base.received] == ["/api/v1/products/1/"] * 2


def test_a_real_difference_fails_with_its_cluster_as_the_compare_report_words_it(
    pytester: pytest.Pytester, base: Server, dearer: Server
) -> None:
    result = _run(pytester, _PRODUCT, *_sides(base, dearer))

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*GET /api/v1/products/1/: the candidate answers differently from the base*",
            "*/api/v1/products/{id}/: clusters of differences",
            "*1 x price (value)",
            "*e.g. GET /api/v1/products/1/",
            '*price: base "9.99" → candidate "10.99"',
            f"*curl {base.url}/api/v1/products/1/*",
        ]
    )


def test_a_failure_shows_no_credential(pytester: pytest.Pytester, base: Server) -> None:
    test = """
def test_product(side_by_side):
    side_by_side.request(
        "GET", "/api/v1/products/1/?api_key=k-123",
        headers={"Authorization": "Token t-456"},
    )
"""
    with serving(lambda r: product(r, price="1.00", session_token="s-789")) as candidate:
        result = _run(pytester, test, *_sides(base, candidate))

    result.assert_outcomes(failed=1)
    # The failure's own lines (pytest prefixes them with E); the source lines above them
    # are the test's own text.
    message = "\n".join(line for line in result.outlines if line.startswith("E "))
    assert "session_token: base None → candidate [redacted]" in message
    assert "api_key=[redacted]" in message
    assert "-H 'Authorization: [redacted]'" in message
    assert not [secret for secret in ("k-123", "t-456", "s-789") if secret in message]


def test_noise_the_marker_ignores_passes_and_the_same_difference_unmarked_fails(
    pytester: pytest.Pytester,
) -> None:
    test = """
import pytest

@pytest.mark.side_by_side(rules={"ignore": ["served_by"]})
def test_marked(side_by_side):
    side_by_side.request("GET", "/api/v1/products/1/")

def test_given_per_call(side_by_side):
    side_by_side.request("GET", "/api/v1/products/1/", rules={"ignore": ["served_by"]})

def test_unmarked(side_by_side):
    side_by_side.request("GET", "/api/v1/products/1/")
"""
    with (
        serving(lambda r: product(r, served_by="old")) as base,
        serving(lambda r: product(r, served_by="new")) as candidate,
    ):
        result = _run(pytester, test, *_sides(base, candidate))

    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*1 x served_by (value)*"])
    # The one that failed is the unmarked test. (Matched on the summary's FAILED line: pytest
    # prints the whole multi-line message there when it runs on CI, only its first line
    # elsewhere, so the output's last lines differ between the two.)
    failed = [line for line in result.outlines if line.startswith("FAILED ")]
    assert len(failed) == 1
    assert failed[0].startswith("FAILED test_team.py::test_unmarked ")


def test_rules_from_the_route_tables_compare_section_apply_to_its_route(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(
        ".yaml",
        routes="""
routes:
  - name: catalog-products
    prefix: /api/v1/products/
    compare:
      tolerance: [{paths: [price], decimal: true}]
      ignore: [served_at]
""",
    )
    test = """
def test_product(side_by_side):
    answers = side_by_side.request("GET", "/api/v1/products/1/")
    assert answers.result.route == "catalog-products"
"""
    served = count()

    def app(received: Received) -> Answer:
        return product(received, price="9.990", served_at=next(served))

    with serving(lambda r: product(r, served_at=-1)) as base, serving(app) as candidate:
        result = _run(pytester, test, *_sides(base, candidate), "--strangler-routes=routes.yaml")

    result.assert_outcomes(passed=1)


def test_what_the_base_changes_between_two_of_its_own_answers_is_noise(
    pytester: pytest.Pytester,
) -> None:
    calls = count()

    def app(received: Received) -> Answer:
        return product(received, request_number=next(calls))

    with serving(app) as noisy, serving(app) as candidate:
        result = _run(pytester, _PRODUCT, *_sides(noisy, candidate))

    result.assert_outcomes(passed=1)


def test_the_sides_come_from_the_ini_file_or_the_environment(
    pytester: pytest.Pytester, base: Server, dearer: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(f"[pytest]\nstrangler_base = {base.url}\n")
    monkeypatch.setenv("STRANGLER_CANDIDATE", dearer.url)

    result = _run(pytester, _PRODUCT)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*base {base.url}  candidate {dearer.url}"])


def test_without_sides_the_failure_says_which_options_to_set(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STRANGLER_BASE", raising=False)
    monkeypatch.delenv("STRANGLER_CANDIDATE", raising=False)

    result = _run(pytester, _PRODUCT, "--strangler-base", "http://127.0.0.1:9")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*side_by_side.request needs the base URL of both sides; set --strangler-candidate "
            "(or the ini option strangler_candidate, or $STRANGLER_CANDIDATE)"
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert "During handling" not in result.stdout.str()


def test_a_base_url_that_is_not_one_says_what_to_fix(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester, _PRODUCT, "--strangler-base", "127.0.0.1:8100",
        "--strangler-candidate", "http://127.0.0.1:8200",
    )  # fmt: skip

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*'127.0.0.1:8100' is not a base URL like http://127.0.0.1:8100: fix --strangler-base*"]
    )


def test_a_base_that_gives_no_answer_fails_the_test_as_nothing_to_compare(
    pytester: pytest.Pytester, same: Server
) -> None:
    with serving(product) as gone:
        nobody = gone.url  # a port that refuses once the server has stopped

    result = _run(pytester, _PRODUCT, "--strangler-base", nobody, "--strangler-candidate", same.url)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [f"*GET /api/v1/products/1/: the base at {nobody} gave no answer (connect: *"]
    )
    assert same.received == []


def test_a_candidate_that_gives_no_answer_is_a_candidate_error(
    pytester: pytest.Pytester, base: Server
) -> None:
    with serving(product) as gone:
        nobody = gone.url

    result = _run(pytester, _PRODUCT, "--strangler-base", base.url, "--strangler-candidate", nobody)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*(candidate_error: the candidate failed: connect*",
            "*1 x candidate error: connect",
        ]
    )


def test_a_base_url_with_a_path_prefix_keeps_it(pytester: pytest.Pytester) -> None:
    def mounted(received: Received) -> Answer:
        if not received.target.startswith("/shop/"):
            return Answer(404, {"code": "not_found"})
        return product(Received(**{**vars(received), "target": received.target[5:]}))

    with serving(mounted) as base, serving(product) as candidate:
        result = _run(
            pytester, _PRODUCT, "--strangler-base", f"{base.url}/shop/",
            "--strangler-candidate", candidate.url,
        )  # fmt: skip

    result.assert_outcomes(passed=1)
    assert {r.target for r in base.received} == {"/shop/api/v1/products/1/"}


_FUNCTIONS = """
import pytest

def old_total(lines):
    return {"total": sum(lines), "lines": len(lines)}

def new_total(lines):
    return {"lines": len(lines), "total": sum(lines)}

def new_total_wrong(lines):
    return {"lines": len(lines), "total": sum(lines) + 1}

def old_parse(text):
    return int(text)

def new_parse(text):
    if not text.isdigit():
        raise ValueError(f"not a number: {text!r}")
    return int(text)

def new_parse_lenient(text):
    try:
        return int(text)
    except ValueError:
        return 0
"""


def test_two_code_paths_that_agree_give_the_old_paths_value(pytester: pytest.Pytester) -> None:
    test = (
        _FUNCTIONS
        + """
def test_totals(side_by_side):
    assert side_by_side.run(old_total, new_total, [1, 2, 3]) == {"total": 6, "lines": 3}

def test_both_raise_the_same_type_the_old_paths_exception_is_raised(side_by_side):
    with pytest.raises(ValueError, match="invalid literal for int"):
        side_by_side.run(old_parse, new_parse, "x")
"""
    )
    result = _run(pytester, test)

    result.assert_outcomes(passed=2)


def test_two_code_paths_that_disagree_fail_with_the_cluster(pytester: pytest.Pytester) -> None:
    test = (
        _FUNCTIONS
        + """
def test_totals(side_by_side):
    side_by_side.run(old_total, new_total_wrong, [1, 2, 3])
"""
    )
    result = _run(pytester, test)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*new_total_wrong returns a different value from old_total*",
            "*run:old_total: clusters of differences",
            "*1 x total (value)",
            "*total: base 6 → candidate 7",
        ]
    )


def test_only_one_path_raising_is_a_difference_either_way(pytester: pytest.Pytester) -> None:
    test = (
        _FUNCTIONS
        + """
def test_new_raises(side_by_side):
    side_by_side.run(new_parse_lenient, new_parse, "x")

def test_old_raises(side_by_side):
    side_by_side.run(old_parse, new_parse_lenient, "x")
"""
    )
    result = _run(pytester, test)

    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*new_parse and new_parse_lenient end differently:",
            "*new_parse_lenient returned 0",
            "*new_parse raised ValueError: not a number: 'x'",
        ]
    )
    result.stdout.fnmatch_lines(["*old_parse raised ValueError: invalid literal for int()*"])


def test_rules_apply_to_code_paths_too(pytester: pytest.Pytester) -> None:
    test = """
import pytest

def old(): return {"at": 1, "price": "12.50"}
def new(): return {"at": 2, "price": "12.5"}

DECIMALS = {"paths": ["price"], "decimal": True}

@pytest.mark.side_by_side(rules={"ignore": ["at"], "tolerance": [DECIMALS]})
def test_marked(side_by_side):
    assert side_by_side.run(old, new) == {"at": 1, "price": "12.50"}
"""
    result = _run(pytester, test)

    result.assert_outcomes(passed=1)


def test_a_rule_that_would_hide_a_critical_field_fails_the_test_naming_it(
    pytester: pytest.Pytester,
) -> None:
    test = """
import pytest

@pytest.mark.side_by_side(rules={"critical": ["price"], "ignore": ["price"]})
def test_marked(side_by_side):
    side_by_side.run(lambda: 1, lambda: 1)
"""
    result = _run(pytester, test)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ignoring 'price' would hide differences on the critical*"])


def test_the_marker_refuses_what_it_does_not_take(pytester: pytest.Pytester) -> None:
    test = """
import pytest

@pytest.mark.side_by_side(rule={"ignore": ["at"]})
def test_marked(side_by_side):
    side_by_side.run(lambda: 1, lambda: 1)
"""
    result = _run(pytester, test)

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*@pytest.mark.side_by_side takes only rules= and route=, not rule"]
    )


def test_loading_the_plugin_imports_neither_django_nor_the_engine() -> None:
    # pytest loads the plugin in every run of every project with the toolkit installed.
    probe = (
        "import sys, strangler.pytest_plugin\n"
        "heavy = ('django', 'aiohttp', 'pydantic', 'requests', 'rich', 'ruamel',"
        " 'strangler.compare', 'strangler.proxy')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(heavy))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", "import json\n" + probe],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip

    assert json.loads(done.stdout) == []
