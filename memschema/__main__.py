"""`python -m memschema ...`: the `memschema` command."""

import sys

from .cli import main

sys.exit(main())
