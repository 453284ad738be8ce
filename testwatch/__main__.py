"""``python -m testwatch``."""

import sys

try:
    from testwatch.cli import entry
except KeyboardInterrupt:  # Ctrl-C while testwatch is still being imported
    sys.exit(2)

entry()
