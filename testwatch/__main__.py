"""``python -m testwatch``."""

import sys

try:
    from testwatch.cli.main import entry
except KeyboardInterrupt:  # Ctrl-C while testwatch is still being imported
    sys.exit(2)

entry()
