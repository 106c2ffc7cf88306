"""``strangler routes check|list|set``: the route table, through the running proxy or its file.

``list`` and ``set`` talk to the proxy's admin API; when nothing listens there (connection
refused) they work on the file instead, and the running proxies, if any start later, load
it. The toolkit may not import the proxy (a checked package boundary), so whatever needs the
proxy's schema (``check``, reading or validating the file) runs
``python -m strangler.proxy.check`` as a process and reads its exit status or its ``--json`` report.

- :mod:`~strangler.cli.routes.commands`: the commands and their parser.
- :mod:`~strangler.cli.routes.admin`: the proxy's admin API.
- :mod:`~strangler.cli.routes.checker`: ``python -m strangler.proxy.check`` as a child process.
- :mod:`~strangler.cli.routes.table`: the routes as a text table or JSON.
"""

from strangler.cli.routes.commands import register, routes_check, routes_list, routes_set

__all__ = ["register", "routes_check", "routes_list", "routes_set"]
