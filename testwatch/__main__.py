"""``python -m testwatch``."""

from testwatch.cli import entry

entry()
