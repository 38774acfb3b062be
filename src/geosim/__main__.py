"""Allow `python -m geosim`."""

import sys

from geosim.cli import main

sys.exit(main())
