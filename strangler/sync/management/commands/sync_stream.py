"""``manage.py sync_stream PEER --enable|--disable|--follow-settings``: switch a stream on or
off at run time (a migration plan's cutover and rollback do), or hand it back to settings."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from strangler.sync.switch import stream_switch, switch_tell


class Command(BaseCommand):
    help = "Switch the stream to PEER on or off, overriding the registration until cleared."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("peer")
        choice = parser.add_mutually_exclusive_group(required=True)
        choice.add_argument("--enable", dest="enabled", action="store_const", const=True)
        choice.add_argument("--disable", dest="enabled", action="store_const", const=False)
        choice.add_argument("--follow-settings", dest="enabled", action="store_const", const=None)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            stream = stream_switch(peer=options["peer"], enabled=options["enabled"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        source = "settings" if stream.operator_enabled is None else "operator"
        state = "enabled" if stream.enabled else "disabled"
        self.stdout.write(f"stream to {stream.peer}: {state} ({source})")
        if not switch_tell(stream.peer):
            # Not an error: the switch holds here, and the next relay pass tells the peer.
            self.stderr.write(
                f"{stream.peer} could not be told yet (it may report the stream as stuck "
                "until the next relay pass reaches it)"
            )
