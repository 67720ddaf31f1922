"""``python -m core``: the ``codedetect-suite`` command from a checkout (see core/cli.py)."""

import sys

from core.cli import main

sys.exit(main())
