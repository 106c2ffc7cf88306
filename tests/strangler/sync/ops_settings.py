"""The sync test project with the operations endpoints (backfill, reconcile, metrics) routed.

Until ``strangler.sync.urls`` adds ``urls_ops`` to its own patterns, beta serves them through
this settings module; everything else is the test project's.
"""

from tests.sync_project.settings import *  # noqa: F403 - the same node, one setting changed

ROOT_URLCONF = "tests.strangler.sync.ops_urls"
