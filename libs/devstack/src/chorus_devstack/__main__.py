"""`python -m chorus_devstack ...` is the `chorus-stack` CLI."""

import sys

from chorus_devstack.cli import main

sys.exit(main())
