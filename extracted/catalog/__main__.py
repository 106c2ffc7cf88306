"""``python -m extracted.catalog <command>``: Django's manage.py for the catalog service."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extracted.catalog.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line([f"{sys.executable} -m extracted.catalog", *sys.argv[1:]])


if __name__ == "__main__":
    main()
