"""``python -m strangler.cli``: the ``strangler`` command, without its console script."""

import sys

from strangler.cli import main

sys.exit(main())
