"""``strangler compare``: replay requests against two base URLs and compare the answers;
``strangler compare report``: render the results the proxy and earlier replays persisted.

    strangler compare --base http://127.0.0.1:8100 --candidate http://127.0.0.1:8200 \\
        --requests requests.jsonl [--concurrency 8] [--rate 50] [--allow-writes] \\
        [--rules routes.yaml] [--report-json F] [--report-junit F] [--report-html F] \\
        [--results DB]
    strangler compare report [--results DB] [--json | --junit F | --html F]

``--requests`` is a JSONL capture, a HAR file or ``METHOD PATH`` lines
(``strangler.compare.captures``). Exit status: 0 no real difference, 1 real differences
(or candidate errors), 2 could not run (bad arguments, an unreadable file, a side that
cannot be reached, nothing that could be compared).

- :mod:`~strangler.cli.compare.arguments`: the parser of both commands.
- :mod:`~strangler.cli.compare.replay`: ``compare``, the replay with its progress bar.
- :mod:`~strangler.cli.compare.report`: ``compare report``, from the persisted results.
- :mod:`~strangler.cli.compare.output`: what both do with their reports, and exit statuses.
"""

from strangler.cli.compare.arguments import register
from strangler.cli.compare.replay import compare_replay
from strangler.cli.compare.report import compare_report

__all__ = ["compare_replay", "compare_report", "register"]
