"""What dependency recording costs inside a real project's pytest, counted in instructions.

Wall time on a shared two-core machine moves by a third from one run to the next; the number of
instructions a run executes does not. This runs the project's suite under ``valgrind
--tool=cachegrind --cache-sim=no`` twice, after a warm-up run of each (so bytecode is cached):
plain pytest, and pytest as ``testwatch run --deps`` starts it (``record_first`` and the
``deps_plugin``, recording into a temporary folder), and ``pytest --testmon`` from an empty
data file (the anchor: pytest-testmon must be installed in the project's interpreter), all with
the project's own interpreter and one hash seed (a random one moves a count by a percent or two),
and prints the counts and their ratios to plain pytest's. User-space instructions of the pytest
process only: system calls and the engine's side (reading and storing the recording) are not
counted, while testmon stores its data inside its pytest process, so its count holds its store;
the whole command's cost is ``benchmarks/real/compare.py``'s. Needs valgrind.

    python benchmarks/recorder_cost.py --project DIR --python DIR/.venv/bin/python [-- PYTEST ARGS]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from plugin_cost import count_instructions
from user_env import user_env

from testwatch.run.child_command import DEPS_PLUGIN


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="the project's root folder")
    parser.add_argument("--python", required=True, help="the project's interpreter (with testwatch)")
    parser.add_argument("pytest_args", nargs="*", help="after --: what to give pytest (default: none)")
    options = parser.parse_args()
    project = options.project.resolve()
    common = ["-q", "-p", "no:cacheprovider", *options.pytest_args]
    env = {**user_env(), "PYTHONHASHSEED": "0"}  # the same hashes, the same collisions, each run
    with tempfile.TemporaryDirectory(prefix="tw-recorder-cost-") as out:
        variants = {
            "plain pytest": ["-m", "pytest", *common],
            "recording (run --deps's child)": [
                "-m", "testwatch.collectors.in_pytest.record_first", str(project), "-p", DEPS_PLUGIN,
                f"--testwatch-deps={out}", *common,
            ],
            # testmon needs pytest's cache provider (it reads --lf from its options)
            "pytest --testmon, from scratch": [
                "-c", _FROM_SCRATCH, f"{out}/testmondata", "-q", *options.pytest_args,
            ],
        }
        with ThreadPoolExecutor(max_workers=2) as pool:  # counts do not depend on the load
            counts = dict(zip(variants, pool.map(
                lambda args: count_instructions(args, project, env, options.python), variants.values()
            ), strict=True))
    base = counts["plain pytest"]
    for name, count in counts.items():
        print(f"  {name:<32} {count / 1e9:7.3f} G instructions ({count / base:.3f}x plain pytest)")


# pytest --testmon from an empty data file each time: the warm-up run would otherwise leave the
# counted one nothing to run.
_FROM_SCRATCH = textwrap.dedent("""
    import glob, os, sys
    data = sys.argv.pop(1)
    for stale in glob.glob(data + "*"):
        os.remove(stale)
    os.environ["TESTMON_DATAFILE"] = data
    import pytest
    sys.exit(pytest.main(["--testmon", *sys.argv[1:]]))
""")


if __name__ == "__main__":
    main()
