"""Entry point of ``python -m mlops_resources``."""

import sys

from mlops_resources.offline.cli import main

sys.exit(main())
