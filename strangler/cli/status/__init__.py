"""``strangler status``: how far the migration has come, whether it is safe, what blocks the
next step, in one screen (rich tables) or one JSON document (``--json``).

It reads what ``plan status`` reads, for every plan under ``--plans``, and with
``STRANGLER_STORE_URL`` the shared store's fleet and audit trail. A source that cannot be
read is shown as unknown with the reason. Exit status: 0 when some source answered, 2 when
none did (no proxy, no sync node, no store).

- :mod:`strangler.overview`: the document, from every source (shared with the dashboard).
- :mod:`~strangler.cli.status.render`: the document as rich tables.
"""

from strangler.cli.status.command import register, status

__all__ = ["register", "status"]
