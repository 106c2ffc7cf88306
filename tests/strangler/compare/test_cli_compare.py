"""``strangler compare`` and ``strangler compare report`` against real HTTP servers: exit
status 0 / 1 / 2, report files, persisted results, and no secret in anything written."""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET

import pytest

from strangler.cli import CommandError
from strangler.cli import compare as cli_compare
from strangler.compare import HttpRequest
from strangler.compare.capture_writer import CaptureSettings, CaptureWriter
from tests.monolith.processes import free_port

from .servers import Answer, product, serving


def run(capfd, *argv: str) -> tuple[int, str, str]:
    """``strangler`` with the compare group, dispatched as ``strangler.cli.main`` does."""
    parser = argparse.ArgumentParser(prog="strangler")
    groups = parser.add_subparsers(dest="group", required=True)
    cli_compare.register(groups)
    try:
        args = parser.parse_args(list(argv))
        status = args.command(args)
    except CommandError as exc:
        print(f"strangler: {exc.message}", file=sys.stderr)
        status = int(exc.exit_code)
    except SystemExit as exc:  # argparse refusing the usage
        status = int(exc.code or 0)
    out, err = capfd.readouterr()
    return status, out, err


@pytest.fixture
def requests_file(tmp_path):
    path = tmp_path / "requests.txt"
    path.write_text("".join(f"GET /api/v1/products/{i}/\n" for i in range(8)))
    return path


def _compare(base, candidate, requests_file, *extra):
    return (
        "compare", "--base", base.url, "--candidate", candidate.url,
        "--requests", str(requests_file), *extra,
    )  # fmt: skip


def test_no_real_difference_exits_0_and_writes_every_report(capfd, tmp_path, requests_file):
    with serving(product) as base, serving(product) as candidate:
        status, out, err = run(
            capfd,
            *_compare(base, candidate, requests_file),
            "--report-json", str(tmp_path / "r.json"),
            "--report-junit", str(tmp_path / "r.xml"),
            "--report-html", str(tmp_path / "r.html"),
        )  # fmt: skip

    assert status == 0, err
    assert "No real difference" in out
    assert "replaying" not in err  # the progress bar is for terminals, not pipes
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["summary"]["equal"] == 8
    assert ET.parse(tmp_path / "r.xml").getroot().get("failures") == "0"
    assert "<!DOCTYPE html>" in (tmp_path / "r.html").read_text()


def test_a_real_difference_exits_1_and_is_reported(capfd, tmp_path, requests_file):
    def cheaper_sometimes(received):
        return product(received, price="5.00" if received.path.endswith("/3/") else "9.99")

    with serving(product) as base, serving(cheaper_sometimes) as candidate:
        status, out, _ = run(
            capfd,
            *_compare(base, candidate, requests_file),
            "--report-json", str(tmp_path / "r.json"),
        )  # fmt: skip

    assert status == 1
    assert "price (value)" in out
    (route,) = json.loads((tmp_path / "r.json").read_text())["routes"]
    assert route["totals"]["real_different"] == 1
    assert route["clusters"][0]["examples"][0]["target"] == "/api/v1/products/3/"


def test_a_broken_candidate_is_a_candidate_error_and_exits_1(capfd, tmp_path, requests_file):
    # The candidate never answers: the timeout is what ends its requests. It is long enough
    # for the base to answer on a loaded machine (0.3 s was not, under make test's load, and
    # a base that times out too is a run that cannot judge: exit 2).
    with serving(product) as base, serving(lambda r: Answer(hang=True)) as candidate:
        status, out, _ = run(
            capfd,
            *_compare(base, candidate, requests_file),
            "--timeout", "2",
            "--report-junit", str(tmp_path / "r.xml"),
        )  # fmt: skip

    assert status == 1
    assert "candidate error: timeout" in out
    cases = [c.get("name") for c in ET.parse(tmp_path / "r.xml").getroot().iter("testcase")]
    assert cases == ["route /api/v1/products/{id}/", "cluster candidate error: timeout"]


def test_a_candidate_nobody_listens_on_exits_2(capfd, requests_file):
    nobody = f"http://127.0.0.1:{free_port()}"
    with serving(product) as base:
        status, _, err = run(
            capfd, "compare", "--base", base.url, "--candidate", nobody,
            "--requests", str(requests_file),
        )  # fmt: skip

    assert status == 2
    assert f"cannot reach {nobody}" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("GET\n", "requests.txt:1: expected a JSON record or 'METHOD PATH'"),
        ("# nothing but a comment\n", "no requests in the file"),
    ],
)
def test_an_unusable_requests_file_exits_2(capfd, tmp_path, content, message):
    path = tmp_path / "requests.txt"
    path.write_text(content)

    status, _, err = run(
        capfd, "compare", "--base", "http://127.0.0.1:1", "--candidate", "http://127.0.0.1:2",
        "--requests", str(path),
    )  # fmt: skip

    assert status == 2
    assert message in err


def test_missing_arguments_exit_2(capfd):
    status, _, err = run(capfd, "compare", "--base", "http://127.0.0.1:1")

    assert status == 2
    assert "--candidate, --requests required" in err


def test_refused_rules_exit_2_naming_the_file_and_field(capfd, tmp_path, requests_file):
    rules = tmp_path / "rules.yaml"
    rules.write_text("compare:\n  critical: [price]\n  ignore: [price]\n")

    status, _, err = run(
        capfd, "compare", "--base", "http://127.0.0.1:1", "--candidate", "http://127.0.0.1:2",
        "--requests", str(requests_file), "--rules", str(rules),
    )  # fmt: skip

    assert status == 2
    assert f"{rules}: defaults.ignore[0]: refused" in err


def test_only_writes_without_allow_writes_exits_2_saying_why(capfd, tmp_path):
    path = tmp_path / "writes.txt"
    path.write_text("POST /api/v1/products/\nDELETE /api/v1/products/3/\n")
    with serving(product) as base, serving(product) as candidate:
        status, _, err = run(capfd, *_compare(base, candidate, path))

        assert base.received == []
    assert status == 2
    assert "skipped 2 request(s): write (give --allow-writes to replay writes)" in err


def test_rules_name_routes_and_hide_a_volatile_field(capfd, tmp_path, requests_file):
    rules = tmp_path / "routes.yaml"
    rules.write_text(
        "routes:\n"
        "  - name: product-detail\n"
        "    path: /api/v1/products/<int:id>/\n"
        "    compare: {ignore: [served_at]}\n"
    )

    with (
        serving(lambda r: product(r, served_at="a")) as base,
        serving(lambda r: product(r, served_at="b")) as candidate,
    ):
        status, out, _ = run(
            capfd, *_compare(base, candidate, requests_file), "--rules", str(rules)
        )

    assert status == 0
    assert "product-detail" in out


def test_results_persist_and_compare_report_renders_them(capfd, tmp_path, requests_file):
    db = tmp_path / "var" / "results.sqlite3"
    with serving(product) as base, serving(lambda r: product(r, price="1")) as candidate:
        first, _, _ = run(capfd, *_compare(base, candidate, requests_file), "--results", str(db))
        again, _, _ = run(capfd, *_compare(base, candidate, requests_file), "--results", str(db))

    status, out, _ = run(capfd, "compare", "report", "--results", str(db), "--json")
    html_status, _, _ = run(
        capfd, "compare", "report", "--results", str(db), "--html", str(tmp_path / "r.html"),
        "--junit", str(tmp_path / "r.xml"),
    )  # fmt: skip

    assert (first, again, status, html_status) == (1, 1, 1, 1)
    (route,) = json.loads(out)["routes"]
    assert route["totals"]["real_different"] == 16  # both runs
    assert "price (value)" in (tmp_path / "r.html").read_text()
    assert ET.parse(tmp_path / "r.xml").getroot().get("failures") == "2"


def test_compare_report_without_a_results_file_exits_2(capfd, tmp_path):
    status, _, err = run(capfd, "compare", "report", "--results", str(tmp_path / "none.db"))

    assert status == 2
    assert "no comparison results at" in err


@pytest.mark.postgres
def test_shared_results_go_to_the_store_and_compare_report_reads_them_there(
    capfd, monkeypatch, tmp_path, requests_file, postgres_results
):
    # Given a store named by the environment, with nothing in it yet
    monkeypatch.setenv("STRANGLER_STORE_URL", postgres_results.url)
    monkeypatch.setenv("STRANGLER_VAR_DIR", str(tmp_path / "var"))
    missing, _, missing_err = run(capfd, "compare", "report")

    # When a replay adds its results where the proxy adds its own
    with serving(product) as base, serving(lambda r: product(r, price="1")) as candidate:
        first, _, _ = run(capfd, *_compare(base, candidate, requests_file), "--shared-results")
    status, out, _ = run(capfd, "compare", "report", "--json")

    # Then the report reads them from the store, and no file was written
    assert (missing, first, status) == (2, 1, 1)
    assert f"no comparison results in the store {postgres_results}" in missing_err
    assert "--shared-results" in missing_err
    (route,) = json.loads(out)["routes"]
    assert route["totals"]["real_different"] == 8
    assert not (tmp_path / "var").exists()


def test_a_results_file_and_the_shared_results_are_not_both_taken(capfd, tmp_path, requests_file):
    status, _, err = run(
        capfd, "compare", "--base", "http://127.0.0.1:9", "--candidate", "http://127.0.0.1:9",
        "--requests", str(requests_file), "--results", str(tmp_path / "r.sqlite3"),
        "--shared-results",
    )  # fmt: skip

    assert status == 2
    assert "--shared-results: not allowed with argument --results" in err
    assert not (tmp_path / "r.sqlite3").exists()


def test_no_cookie_or_token_reaches_captures_examples_curl_or_reports(capfd, tmp_path):
    # Given a capture the proxy's writer recorded from a request full of credentials
    secrets = ["c4pture-c00kie", "c4pture-t0ken", "qu3ry-t0k3n", "f0rm-p4ss", "r3ply-s3ssion"]
    writer = CaptureWriter(CaptureSettings(tmp_path / "capture.jsonl"))
    writer.write(
        "products",
        HttpRequest(
            "GET",
            f"/api/v1/products/1/?token={secrets[2]}",
            (("Cookie", f"sessionid={secrets[0]}"), ("Authorization", f"Token {secrets[1]}")),
        ),
    )
    writer.close()
    # and a replay that sends its own credentials, against sides whose answers differ in a
    # session field
    live_token = "l1ve-t0ken-s3nt"

    def answer(session):
        return lambda r: product(r, session={"id": f"{secrets[4]}-{session}"}, price=session)

    with serving(answer("a")) as base, serving(answer("b")) as candidate:
        status, out, err = run(
            capfd,
            *_compare(base, candidate, tmp_path / "capture.jsonl"),
            "--header", f"Authorization: Bearer {live_token}",
            "--report-json", str(tmp_path / "r.json"),
            "--report-junit", str(tmp_path / "r.xml"),
            "--report-html", str(tmp_path / "r.html"),
            "--results", str(tmp_path / "results.sqlite3"),
        )  # fmt: skip
        received = base.received[0]
    report_status, report_out, _ = run(
        capfd, "compare", "report", "--results", str(tmp_path / "results.sqlite3")
    )

    assert status == report_status == 1
    assert received.headers["Authorization"] == f"Bearer {live_token}"
    written = [
        (tmp_path / name).read_text() for name in ("capture.jsonl", "r.json", "r.xml", "r.html")
    ]
    database = [p.read_bytes().decode("latin-1") for p in tmp_path.glob("results.sqlite3*")]
    for text in [*written, *database, out, err, report_out]:
        for secret in [*secrets, live_token]:
            assert secret not in text
    assert "curl" in written[1]
