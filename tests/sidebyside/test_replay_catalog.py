"""``strangler compare`` replaying the catalog's reads against the real monolith and catalog
service: no real difference, exit status 0, every request in the report."""

from __future__ import annotations

import argparse
import json

import pytest

from strangler.cli import compare as cli_compare
from tests.extracted.catalog.contract import read_corpus
from tests.sidebyside.services import PUBLIC_HOST, Pair

pytestmark = pytest.mark.e2e


def test_replaying_the_anonymous_reads_finds_no_real_difference(
    catalog_services: Pair, tmp_path, capfd
):
    reads = [r for r in read_corpus() if r.caller is None]
    requests_file = tmp_path / "reads.txt"
    requests_file.write_text("".join(f"{r.method} {r.path}\n" for r in reads))
    rules = tmp_path / "routes.yaml"
    rules.write_text(
        "routes:\n"
        "  - {name: catalog-products, prefix: /api/v1/products/}\n"
        "  - {name: catalog-categories, prefix: /api/v1/categories/}\n"
        "  - {name: other, prefix: /}\n"
    )
    parser = argparse.ArgumentParser(prog="strangler")
    cli_compare.register(parser.add_subparsers(dest="group", required=True))
    args = parser.parse_args(
        [
            "compare", "--base", catalog_services.monolith,
            "--candidate", catalog_services.catalog, "--requests", str(requests_file),
            "--rules", str(rules), "--header", f"Host: {PUBLIC_HOST}",
            "--concurrency", "4", "--report-json", str(tmp_path / "report.json"),
        ]
    )  # fmt: skip

    status = args.command(args)

    out, _ = capfd.readouterr()
    assert status == 0, out
    document = json.loads((tmp_path / "report.json").read_text())
    assert document["summary"]["compared"] == len(reads)
    assert document["summary"]["candidate_error"] == 0
    assert {r["route"] for r in document["routes"]} == {
        "catalog-products", "catalog-categories", "other"
    }  # fmt: skip
