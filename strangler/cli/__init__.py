"""``strangler``: the toolkit's command line (the console script runs :func:`main`).

- :mod:`strangler.cli.app`: the parser, built from every command group, and dispatch.
- :mod:`strangler.cli.routes`, :mod:`~strangler.cli.up`, :mod:`~strangler.cli.plan`,
  :mod:`~strangler.cli.compare`, :mod:`~strangler.cli.sync`: one command group each.
- :mod:`strangler.cli.status`: ``status``, the overview of what the groups above show.
- :mod:`strangler.cli.errors`: exit statuses and :class:`CommandError`.

Imports run one way, app over the command groups over errors, and no module of the package
imports this one: the checked rule in ``pyproject.toml`` (``[tool.importlinter]``).
"""

from strangler.cli.app import Command, build_parser, main
from strangler.cli.errors import CommandError, ExitCode

__all__ = ["Command", "CommandError", "ExitCode", "build_parser", "main"]
