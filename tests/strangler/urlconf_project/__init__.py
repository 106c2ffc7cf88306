"""A small Django project whose URLconf has what ``routes from-urlconf`` must report: an
include with a namespace, re_path() patterns (plain, optional and unanchored), a custom
converter, a uuid and a pattern Django never reaches."""
