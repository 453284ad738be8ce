"""What testwatch's plugins cost inside pytest, without testwatch's own process around them.

Generates the suite of ``generate_suite.py`` and times, in an order that rotates per round,
plain ``python -m pytest`` and pytest with each of testwatch's default plugins loaded alone, and
with all of them streaming to a socket that this script drains (as the engine would). Prints each
round, then medians and ratios to plain pytest of wall and CPU time (the pytest process only).

    python benchmarks/plugin_cost.py [--rounds 5] [--tests 2000]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate_suite import generate_suite
from run_overhead import time_command_s

from testwatch.child_command import DEFAULT_PLUGINS
from testwatch.collectors.protocol import ENV_SOCKET


def drain_forever(server: socket.socket) -> None:
    """Accept each pytest's connection and read it to the end, as the engine does."""
    while True:
        connection, _ = server.accept()
        while connection.recv(1 << 16):
            pass
        connection.close()


def variants() -> dict[str, list[str]]:
    pytest = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    each = {f"+ {name.rsplit('.', 1)[1]}": [*pytest, "-p", name] for name in DEFAULT_PLUGINS}
    every = [arg for name in DEFAULT_PLUGINS for arg in ("-p", name)]
    return {"plain pytest": pytest, **each, "+ all, streaming": [*pytest, *every]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tests", type=int, default=2000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        suite = Path(tmp) / "suite"
        generate_suite(suite, total_tests=options.tests, file_count=40)
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(Path(tmp) / "events.sock"))
        server.listen()
        threading.Thread(target=drain_forever, args=(server,), daemon=True).start()
        # Variants that load the stream plugin connect here; the others never look at it.
        os.environ[ENV_SOCKET] = str(Path(tmp) / "events.sock")
        commands = variants()
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        names = list(commands)
        for number in range(options.rounds):
            order = names[number % len(names):] + names[: number % len(names)]
            for name in order:
                times[name].append(time_command_s(commands[name], suite))
            print(f"round {number + 1}: " + ", ".join(
                f"{name} {times[name][-1][0]:.2f}/{times[name][-1][1]:.2f}" for name in names
            ) + " (wall/cpu s)", flush=True)
    plain_wall_s = statistics.median(t[0] for t in times["plain pytest"])
    plain_cpu_s = statistics.median(t[1] for t in times["plain pytest"])
    print(f"{options.tests} tests, {options.rounds} rounds, medians and ratios to plain pytest:")
    for name in names:
        wall_s = statistics.median(t[0] for t in times[name])
        cpu_s = statistics.median(t[1] for t in times[name])
        print(f"  {name:<20} wall {wall_s:6.2f} s {wall_s / plain_wall_s:6.3f}x   "
              f"cpu {cpu_s:6.2f} s {cpu_s / plain_cpu_s:6.3f}x")


if __name__ == "__main__":
    main()
