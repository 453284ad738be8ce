"""Warm start vs a cold pytest: median time from a run request to the first test result.

For each library (pandas, a heavy C-extension stack; sympy, a heavy pure-Python one) it writes a
project whose tests import it, then alternates, round by round:

- warm: ``RunEngine`` with ``warm = true`` (pytest forked from the warm process), timed from the
  run request for the selected tests to the first result the engine reports;
- cold: ``python -m pytest -v`` on the same tests, timed from starting the process to the first
  result line it prints (unbuffered);
- testwatch cold, for reference: the same engine with ``warm = false``.

Each round first edits the project's source file, as a save would. Both sides use the same
interpreter (a bench venv with pytest and the libraries). Outcomes must be identical. Target:
warm / cold <= 0.5.

    /work/venv/bin/python benchmarks/warm_start.py --python /work/benchvenv-scale/bin/python
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

from testwatch.config.settings import load_config
from testwatch.history.store import open_history
from testwatch.model.events import EngineNotice, TestFinished
from testwatch.run.engine import RunRequest, measured_engine

LIBRARIES = {
    "pandas": """
        import pandas as pd

        from calc.core import scale


        def frame():
            return pd.DataFrame({"a": [1, 2, 3], "b": [4.0, 5.0, 6.0]})
        """,
    "sympy": """
        import sympy

        from calc.core import scale


        def frame():
            x = sympy.Symbol("x")
            return sympy.expand((x + 1) ** 2)
        """,
}
TESTS = """

def test_{n}():
    assert scale({n}, 2) == {double}
    assert frame() is not None
"""
_RESULT_LINE = re.compile(rb"::(\S+) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)")


def write_project(root: Path, library: str, tests: int) -> list[str]:
    """A small package and one test file importing ``library``; returns the selected node ids."""
    (root / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "calc"\nversion = "0"\n')
    (root / "calc" / "__init__.py").write_text("")
    (root / "calc" / "core.py").write_text("def scale(value, factor):\n    return value * factor\n")
    body = textwrap.dedent(LIBRARIES[library]).lstrip()
    body += "".join(TESTS.format(n=n, double=2 * n) for n in range(tests))
    (root / "tests" / f"test_{library}.py").write_text(body)
    (root / "tests" / "test_unrelated.py").write_text("def test_other():\n    assert True\n")
    return [f"tests/test_{library}.py::test_{n}" for n in range(tests)]


def save(root: Path, round_number: int) -> None:
    """Edit the source file as a save in an editor would."""
    (root / "calc" / "core.py").write_text(
        f"# edit {round_number}\ndef scale(value, factor):\n    return value * factor\n"
    )


class EngineTimer:
    """A RunEngine whose runs are timed from request to first result."""

    def __init__(self, root: Path, python: str, warm: bool) -> None:
        config = load_config(root, {"warm": warm, "python": python, "history": f".testwatch/{warm}.db"})
        self.history = open_history(config.history_path)
        self.engine = measured_engine(config, self.history, self._listen)
        self.first_result_at = 0.0
        self.outcomes: dict[str, str] = {}
        self.notices: list[str] = []

    def _listen(self, event) -> None:
        if isinstance(event, TestFinished):
            self.first_result_at = self.first_result_at or time.perf_counter()
            self.outcomes[event.result.nodeid] = event.result.outcome
        elif isinstance(event, EngineNotice):
            self.notices.append(event.message)

    async def time_run(self, selected: list[str]) -> float:
        self.first_result_at, self.outcomes = 0.0, {}
        started = time.perf_counter()
        await self.engine.run(RunRequest(trigger="bench", select=selected))
        return self.first_result_at - started

    def close(self) -> None:
        self.engine.close()
        self.history.close()


def time_cold_pytest(root: Path, python: str, selected: list[str]) -> tuple[float, dict[str, str]]:
    """Seconds from starting ``python -m pytest -v`` to its first result line, and its outcomes."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [python, "-m", "pytest", "-v", "-p", "no:cacheprovider", *selected],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    first = 0.0
    outcomes = {}
    assert process.stdout is not None
    for line in process.stdout:
        match = _RESULT_LINE.search(line)
        if match:
            first = first or time.perf_counter() - started
            nodeid = line.split(b" ", 1)[0].decode()
            outcomes[nodeid] = {"PASSED": "passed", "FAILED": "failed"}.get(match[2].decode(), "other")
    process.wait()
    return first, outcomes


async def bench_library(library: str, python: str, rounds: int, tests: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix=f"tw-bench-{library}-") as folder:
        root = Path(folder)
        selected = write_project(root, library, tests)
        warm, cold_engine = EngineTimer(root, python, True), EngineTimer(root, python, False)
        try:
            await warm.time_run(selected)  # starts the warm process: not a measured round
            times: dict[str, list[float]] = {"warm": [], "pytest": [], "testwatch_cold": []}
            for round_number in range(rounds):
                save(root, round_number)
                times["warm"].append(await warm.time_run(selected))
                seconds, pytest_outcomes = time_cold_pytest(root, python, selected)
                times["pytest"].append(seconds)
                times["testwatch_cold"].append(await cold_engine.time_run(selected))
                if not (warm.outcomes == pytest_outcomes == cold_engine.outcomes):
                    raise SystemExit(f"{library}: results differ: {warm.outcomes} / {pytest_outcomes}")
            if warm.notices:
                print(f"  engine notices (warm engine): {warm.notices}")
            server = warm.engine.warm.server
            imported = server.report["imported"] if server else "nothing"
            print(f"  {library}: the warm process pre-imported {imported}")
        finally:
            warm.close()
            cold_engine.close()
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="/work/benchvenv-scale/bin/python",
                        help="interpreter with pytest, pandas and sympy installed")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tests", type=int, default=5, help="selected tests per run")
    parser.add_argument("--library", choices=sorted(LIBRARIES), action="append")
    args = parser.parse_args()
    print(f"warm start benchmark: {args.rounds} interleaved rounds, {args.tests} selected tests, "
          f"python {args.python}")
    for library in args.library or sorted(LIBRARIES):
        medians = asyncio.run(bench_library(library, args.python, args.rounds, args.tests))
        ratio = medians["warm"] / medians["pytest"]
        print(
            f"{library:>7}: first result, median: warm {medians['warm'] * 1000:.0f} ms, "
            f"cold pytest {medians['pytest'] * 1000:.0f} ms, testwatch cold "
            f"{medians['testwatch_cold'] * 1000:.0f} ms; warm/pytest = {ratio:.2f} "
            f"(target <= 0.50: {'met' if ratio <= 0.5 else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
