"""``strangler.sync``: keep chosen tables of two Django projects in step (docs/sync.md).

A pluggable Django app (label ``strangler_sync``). Capture is a database trigger writing a
changelog row in the writer's own transaction; a relay (Celery or ``manage.py sync_relay``)
posts batches to the peer's ``/internal/sync/`` endpoints; the peer applies each batch and
advances its cursor in one transaction. Modules:

- ``config``: ``settings.STRANGLER_SYNC`` read once into frozen dataclasses.
- ``models``, ``triggers``, ``operations``: the tables and the capture triggers.
- ``wire``, ``transport``: the protocol's data and the HTTP client of the relay.
- ``changelog``, ``relay``: the source side.
- ``apply``, ``deadletters``, ``schema``, ``views``: the receiver side; its one path is
  ``settle``: ``preload``, ``fate`` (the version rule), ``writers`` (``bulk``, ``references``).
- ``tasks``, ``nudge``: Celery tasks and the after-commit nudge.
"""
