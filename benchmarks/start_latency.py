"""How long a headless ``testwatch run`` takes to start pytest: wall and CPU time in testwatch's
own process from its start to the moment it spawns the pytest child.

Each round runs a fresh interpreter that times itself from its first line, wraps
``subprocess.Popen`` to note the spawn of the pytest child, and runs ``testwatch run`` on a
one-test project (the run itself is not timed). Prints each round and the medians.

    python benchmarks/start_latency.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from user_env import user_env

PROBE = """
import json, subprocess, sys, time
wall0, cpu0 = time.perf_counter(), time.process_time()
spawned = {}
original = subprocess.Popen.__init__

def noting(self, args, *rest, **kwargs):
    if "pytest" in map(str, args) and not spawned:
        spawned["wall_ms"] = (time.perf_counter() - wall0) * 1000
        spawned["cpu_ms"] = (time.process_time() - cpu0) * 1000
    original(self, args, *rest, **kwargs)

subprocess.Popen.__init__ = noting
sys.argv = ["testwatch", "run", sys.argv[1]]
from testwatch.cli.main import main
main()
print("SPAWN " + json.dumps(spawned), file=sys.stderr)
"""


def one_round(project: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(project)], env=user_env(), capture_output=True, text=True,
        check=True,
    )
    line = next(line for line in done.stderr.splitlines() if line.startswith("SPAWN "))
    return json.loads(line.removeprefix("SPAWN "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "tests").mkdir()
        (project / "tests" / "test_one.py").write_text("def test_one():\n    pass\n")
        (project / "pyproject.toml").write_text("")
        one_round(project)  # warm the file cache and create the history
        spawns = []
        for number in range(1, rounds + 1):
            spawns.append(one_round(project))
            print(f"round {number}: pytest spawned after {spawns[-1]['wall_ms']:.0f} ms "
                  f"({spawns[-1]['cpu_ms']:.0f} ms of CPU)")
    print(f"median over {rounds} rounds: pytest spawned after "
          f"{statistics.median(s['wall_ms'] for s in spawns):.0f} ms wall, "
          f"{statistics.median(s['cpu_ms'] for s in spawns):.0f} ms CPU of testwatch's own process")


if __name__ == "__main__":
    main()
