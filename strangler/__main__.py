"""``python -m strangler``: the ``strangler`` command."""

import sys

from strangler.command import main

sys.exit(main())
