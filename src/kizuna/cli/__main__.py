"""`python -m kizuna.cli`."""

import sys

from kizuna.cli import main

sys.exit(main())
