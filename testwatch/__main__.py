"""``python -m testwatch``."""

from testwatch.cli import main

raise SystemExit(main())
