"""``python -m strangler.cli``: the ``strangler`` command, without its console script."""

import sys

from strangler.cli.app import main

sys.exit(main())
