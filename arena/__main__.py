"""``python -m arena`` runs the ``arena`` command."""

import sys

from arena.entry import run

sys.exit(run())
