"""``python -m monolith <command>``: Django's manage.py for the monolith."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monolith.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line([f"{sys.executable} -m monolith", *sys.argv[1:]])


if __name__ == "__main__":
    main()
