"""What testwatch's plugins cost inside pytest, counted in instructions rather than timed.

A two-second pytest run on a shared two-core machine moves by a third from one run to the next;
the number of instructions it executes does not move. For two sizes of the suite of
``generate_suite.py`` this runs pytest under ``valgrind --tool=cachegrind --cache-sim=no``, plain
and with testwatch's default plugins (each alone, and all three as testwatch's child runs them,
streaming to a socket this script reads the way the engine does), and prints the instructions
per test (the difference between the two sizes over the difference in tests) and the fixed part.
Instructions of the process's user space only: system calls are not counted. Needs valgrind.

    python benchmarks/plugin_cost.py [--tests 300 1200]
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate_suite import generate_suite
from user_env import user_env

from testwatch.collectors.in_pytest.protocol import ENV_SOCKET
from testwatch.run.child_command import DEFAULT_PLUGINS
from testwatch.run.resting_reader import REST_S

_INSTRUCTIONS = re.compile(rb"I\s+refs:\s+([\d,]+)")


def drain_forever(server: socket.socket) -> None:
    """Accept each pytest's connection and read it to the end, resting between reads as the engine does."""
    while True:
        connection, _ = server.accept()
        threading.Thread(target=_drain, args=(connection,), daemon=True).start()


def _drain(connection: socket.socket) -> None:
    while connection.recv(1 << 20):
        time.sleep(REST_S)
    connection.close()


def variants() -> dict[str, list[str]]:
    plain = ["-m", "pytest", "-p", "no:cacheprovider"]
    each = {f"+ {name.rsplit('.', 1)[1]}": [*plain, "-p", name] for name in DEFAULT_PLUGINS}
    every = [arg for name in DEFAULT_PLUGINS for arg in ("-p", name)]
    return {
        "plain pytest -q": [*plain, "-q"],
        "plain pytest": plain,
        **each,
        "+ all, as testwatch runs them": [*plain, *every, "--continue-on-collection-errors"],
    }


def count_instructions(
    args: list[str], suite: Path, env: dict[str, str], python: str = sys.executable
) -> int:
    """User-space instructions of one ``python`` run under cachegrind (after a warm-up run)."""
    subprocess.run([python, *args], cwd=suite, env=env, stdout=subprocess.DEVNULL, check=False)
    done = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         python, *args],
        cwd=suite, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
    )
    match = _INSTRUCTIONS.search(done.stderr)
    if match is None:
        raise SystemExit(f"no instruction count from valgrind for {args}: {done.stderr[-1000:]!r}")
    return int(match.group(1).replace(b",", b""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, nargs=2, default=[300, 1200], metavar=("SMALL", "BIG"))
    small, big = parser.parse_args().tests
    with tempfile.TemporaryDirectory() as tmp:
        suites = {
            n: generate_suite(Path(tmp) / f"suite-{n}", total_tests=n, file_count=n // 50)
            for n in (small, big)
        }
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(Path(tmp) / "events.sock"))
        server.listen()
        threading.Thread(target=drain_forever, args=(server,), daemon=True).start()
        # Variants that load the stream plugin connect here; the others never look at it.
        env = {**user_env(), ENV_SOCKET: str(Path(tmp) / "events.sock")}
        jobs = {(name, n): args for name, args in variants().items() for n in (small, big)}
        with ThreadPoolExecutor(max_workers=2) as pool:  # counts do not depend on the load
            found = pool.map(lambda key: count_instructions(jobs[key], suites[key[1]], env), jobs)
            counts = dict(zip(jobs, found, strict=True))
    per_test = {name: (counts[name, big] - counts[name, small]) / (big - small) for name in variants()}
    fixed = {name: counts[name, small] - per_test[name] * small for name in variants()}
    base = per_test["plain pytest"]
    print(f"instructions per test (suites of {small} and {big} tests) and fixed instructions:")
    for name in variants():
        print(f"  {name:<32} {per_test[name] / 1000:8.1f} K per test "
              f"({per_test[name] / base:.3f}x plain pytest)  fixed {fixed[name] / 1e6:8.1f} M")


if __name__ == "__main__":
    main()
