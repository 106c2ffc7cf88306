"""``strangler routes check|list|set|import|export|history|from-urlconf``: the route table,
through the running proxy, the shared control store, or its file; or written from the
monolith's URLconf.

``list`` and ``set`` talk to the proxy's admin API; when nothing listens there (connection
refused) they work on the shared store's table when ``STRANGLER_STORE_URL`` names one, else
on the file, and the running proxies, if any start later, load it. ``import``, ``export``
and ``history`` work on the shared store. The toolkit may not import the proxy (a checked
package boundary), so whatever needs the proxy's schema (``check``, reading or validating a
table) runs ``python -m strangler.proxy.check`` as a process and reads its exit status or its
``--json`` report.

- :mod:`~strangler.cli.routes.commands`: the commands and their parser.
- :mod:`~strangler.cli.routes.change`: ``set``, wherever the table lives.
- :mod:`~strangler.cli.routes.stored`: the shared store's table: import, export, history,
  a change made in it.
- :mod:`~strangler.cli.routes.fleet`: the proxy's replicas, as ``list`` shows them.
- :mod:`~strangler.cli.routes.admin`: the proxy's admin API.
- :mod:`~strangler.cli.routes.checker`: ``python -m strangler.proxy.check`` as a child process.
- :mod:`~strangler.cli.routes.table`: the routes as a text table or JSON.
- :mod:`~strangler.cli.routes.from_urlconf`: ``from-urlconf``, a table from Django's resolver
  (:mod:`strangler.urlconf`).
"""

from strangler.cli.routes.commands import register, routes_check, routes_list, routes_set

__all__ = ["register", "routes_check", "routes_list", "routes_set"]
