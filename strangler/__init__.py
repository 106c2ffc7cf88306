"""The reusable strangler toolkit: sync, compare, plans and the CLI.

It never imports ``monolith``, ``extracted`` or ``proxy``; it starts them as processes.
"""
