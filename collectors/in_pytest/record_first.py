"""The pytest child's entry point when testwatch records dependencies: the recorder, then pytest.

pytest 9 applies the project's ``filterwarnings`` before it loads any ``-p`` plugin, and a filter
naming one of the project's warning classes (``mypkg.warnings.SomeWarning``, as marshmallow's
has) imports the package there. Its module-level lines count as run only if the recorder already
traces them, as under ``coverage run``: so it starts here, before pytest reads its configuration.

    python -m testwatch.collectors.in_pytest.record_first ROOT [pytest arguments]

Started before its run is chosen (``ENV_ARGS_ON_STDIN``), it imports pytest, the plugins and the
tracer while testwatch selects, then waits for the rest of its arguments on stdin.
"""

from __future__ import annotations

import importlib
import itertools
import json
import os
import sys

import pytest

from testwatch.collectors.in_pytest import deps_plugin
from testwatch.collectors.in_pytest.protocol import ENV_ARGS_ON_STDIN


def main() -> int | pytest.ExitCode:
    if os.environ.pop(ENV_ARGS_ON_STDIN, None) == "1" and not _receive_the_run():
        return 0
    root = sys.argv.pop(1)
    deps_plugin.start_before_pytest(sys.argv[1:], root)
    # pytest.main, not console_main (what ``python -m pytest`` calls): pytest 9.2 deprecates
    # console_main for any other caller, and pytest 10 removes it.
    return pytest.main()


def _receive_the_run() -> bool:
    """Import what the run will import first, then take its arguments and environment from
    stdin; False when stdin ends first (testwatch chose to run nothing, or is gone)."""
    for plugin in _named_plugins(sys.argv):
        try:
            importlib.import_module(plugin)
        except ImportError:
            pass  # pytest's own -p loading reports it, as it would without the head start
    deps_plugin.preload_tracer()
    line = sys.stdin.buffer.readline()
    if not line.strip():
        return False
    run = json.loads(line)
    sys.argv += [str(arg) for arg in run["args"]]
    os.environ.update({str(name): str(value) for name, value in run["env"].items()})
    # The tests see an empty stdin, as in a child started with its arguments.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    return True


def _named_plugins(argv: list[str]) -> list[str]:
    """testwatch's own ``-p`` plugins in ``argv``."""
    return [
        value for flag, value in itertools.pairwise(argv)
        if flag == "-p" and value.startswith("testwatch.collectors.")
    ]


if __name__ == "__main__":
    sys.exit(main())
