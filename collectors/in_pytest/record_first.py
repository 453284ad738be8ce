"""The pytest child's entry point when testwatch records dependencies: the recorder, then pytest.

pytest 9 applies the project's ``filterwarnings`` before it loads any ``-p`` plugin, and a filter
naming one of the project's warning classes (``mypkg.warnings.SomeWarning``, as marshmallow's
has) imports the package there. Its module-level lines count as run only if the recorder already
traces them, as under ``coverage run``: so it starts here, before pytest reads its configuration.

    python -m testwatch.collectors.in_pytest.record_first ROOT [pytest arguments]
"""

from __future__ import annotations

import sys

import pytest

from testwatch.collectors.in_pytest import deps_plugin


def main() -> int | pytest.ExitCode:
    root = sys.argv.pop(1)
    deps_plugin.start_before_pytest(sys.argv[1:], root)
    # pytest.main, not console_main (what ``python -m pytest`` calls): pytest 9.2 deprecates
    # console_main for any other caller, and pytest 10 removes it.
    return pytest.main()

if __name__ == "__main__":
    sys.exit(main())
