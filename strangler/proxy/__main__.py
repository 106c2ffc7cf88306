import sys

from strangler.proxy.server import main

sys.exit(main())
