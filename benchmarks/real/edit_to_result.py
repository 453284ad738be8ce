"""Edit to result on real projects: from a file save to the first failing result and to the end of
the run, testwatch in watch mode beside ``pytest --testmon`` and plain pytest.

    python benchmarks/real/edit_to_result.py [--project NAME ...] [--rounds 5] [--only TEXT ...]

Per project (the proving ground's sdist and venv from ``real_setup.py``, two copies, each first on
PYTHONPATH in its own runs): the real ``testwatch watch --headless`` runs in one copy from a
recorded history (``testwatch run --deps``) with its default settings, warm start included;
``pytest --testmon`` (from its recorded data) and plain pytest run in the other. The edits are
the catalog's breaking function-body and module-level mutations plus a few one-function edits of
this file's own. Per round and edit, in an order that rotates each round: (a) testwatch: the edit
is saved in its copy; the time to its first ``FAIL`` line and to the run's summary line (the
whole affected set), then the file is restored and its rerun awaited; (b) ``pytest --testmon -v``
and (c) plain ``pytest -v`` of the whole suite, each after the same edit in the other copy: the
time to the first ``FAILED`` line and to its exit, then the file and testmon's data are restored.
Round 0 is a warm-up and is not counted. Prints medians per edit and the ratios testwatch/testmon
and testwatch/pytest, with the load average before and after. ``--cold`` turns testwatch's warm
start off (``warm = false`` in the watched copy), as for a project whose imports are unsafe to
fork: every run's pytest then starts cold, ahead of the edit (``RunEngine.prestart_cold``).
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from mutation_catalog import MODULE_LEVEL_KINDS, MUTATIONS, Mutation
from mutations import WORK_ROOT, _save
from real_manifest import PROJECTS, TESTMON
from real_setup import ProjectEnv, ensure_testmon, prepare

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from user_env import user_env

TIMEOUT_S = 600.0
FUNCTION_EDITS = (
    Mutation(
        "itsdangerous",
        "int_to_bytes keeps leading zero bytes",
        "function body",
        "src/itsdangerous/encoding.py",
        'return _int_to_bytes(num).lstrip(b"\\x00")',
        "return _int_to_bytes(num)",
    ),
    Mutation(
        "marshmallow",
        "from_timestamp accepts negative values",
        "function body",
        "src/marshmallow/utils.py",
        '    if value < 0:\n        raise ValueError("Not a valid POSIX timestamp")',
        '    if value < -1e12:\n        raise ValueError("Not a valid POSIX timestamp")',
    ),
)
TOOLS = ("testwatch", "testmon", "pytest")


@dataclass
class Timing:
    """One tool's times after one edit, seconds from the save (None: no failure was reported)."""

    first_failure_s: float | None
    end_s: float


@dataclass
class Case:
    """One edit and its timings per tool."""

    mutation: Mutation
    timings: dict[str, list[Timing]] = field(default_factory=lambda: {tool: [] for tool in TOOLS})


class LineStream:
    """A process's stdout lines with the time each arrived."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put((time.perf_counter(), line))
        self.lines.put((time.perf_counter(), ""))

    def until(self, wanted) -> tuple[float, str]:
        """The first line (and its time) for which ``wanted(line)`` is true."""
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            arrived, line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.1))
            if not line:
                raise RuntimeError(f"the process ended (exit {self.process.wait()}) while waiting")
            if wanted(line):
                return arrived, line


class Project:
    """Two copies of one project: one watched by testwatch, one for testmon and plain pytest."""

    def __init__(self, env: ProjectEnv, cold: bool = False) -> None:
        self.env = env
        self.cold = cold  # testwatch with warm start off: pytest started cold for every run
        self.work = WORK_ROOT / "edit-to-result" / env.project.name
        self.watched = self.work / "watched"
        self.batch = self.work / "batch"
        self.testmon_data = self.work / "testmondata"
        self.watch: subprocess.Popen | None = None
        self.stream: LineStream | None = None

    def child_env(self, copy: Path) -> dict[str, str]:
        env = {name: value for name, value in user_env().items() if not name.startswith("TESTWATCH_")}
        env["PYTHONPATH"] = str(copy / "src" if (copy / "src").is_dir() else copy)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def pytest(self, *extra: str) -> list[str]:
        return [
            str(self.env.python),
            "-m",
            "pytest",
            *self.env.project.pytest_args,
            "-p",
            "no:randomly",
            *extra,
        ]

    def prepare(self) -> None:
        """Fresh copies; testwatch's and testmon's recordings of the unedited code."""
        shutil.rmtree(self.work, ignore_errors=True)
        ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".testmondata*", ".testwatch*")
        for copy in (self.watched, self.batch):
            shutil.copytree(self.env.root, copy, ignore=ignore)
        if self.cold:  # as for a project whose imports are not safe to fork
            settings = self.watched / "pyproject.toml"
            text = settings.read_text() if settings.exists() else ""
            settings.write_text(f"{text}\n[tool.testwatch]\nwarm = false\n")
        ensure_testmon(self.env)
        record = [
            str(self.env.python),
            "-m",
            "testwatch",
            "run",
            str(self.watched),
            "--deps",
            "--",
            *self.env.project.pytest_args,
        ]
        subprocess.run(
            record,
            cwd=self.watched,
            env=self.child_env(self.watched),
            check=True,
            capture_output=True,
            timeout=TIMEOUT_S,
        )
        subprocess.run(
            self.pytest("-q", "--testmon"),
            cwd=self.batch,
            env=self.child_env(self.batch),
            capture_output=True,
            timeout=TIMEOUT_S,
        )
        _save(self.batch / ".testmondata", self.testmon_data)

    def start_watch(self) -> None:
        command = [
            str(self.env.python),
            "-m",
            "testwatch",
            "watch",
            str(self.watched),
            "--headless",
            "--",
            *self.env.project.pytest_args,
        ]
        self.watch = subprocess.Popen(
            command,
            cwd=self.watched,
            env=self.child_env(self.watched),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.stream = LineStream(self.watch)
        self.stream.until(lambda line: "waiting for changes" in line)
        time.sleep(5)  # the warm process imports in the background: let it finish

    def stop_watch(self) -> None:
        if self.watch is not None:
            self.watch.terminate()
            self.watch.wait(timeout=60)

    def measure(self, tool: str, mutation: Mutation) -> Timing:
        copy = self.watched if tool == "testwatch" else self.batch
        path = copy / mutation.path
        original = path.read_bytes()
        edited = original.decode("utf-8").replace(mutation.old, mutation.new, 1).encode("utf-8")
        if edited == original:
            raise RuntimeError(f"{mutation.label}: {mutation.path} does not hold the text to replace")
        if tool == "testwatch":
            return self._watched_edit(path, original, edited)
        extra = ("-v", "--testmon") if tool == "testmon" else ("-v",)
        saved = time.perf_counter()
        path.write_bytes(edited)
        try:
            process = subprocess.Popen(
                self.pytest(*extra),
                cwd=copy,
                env=self.child_env(copy),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            first = None
            for line in process.stdout:
                if first is None and " FAILED" in line:
                    first = time.perf_counter() - saved
            process.wait(timeout=TIMEOUT_S)
            return Timing(first, time.perf_counter() - saved)
        finally:
            path.write_bytes(original)
            if tool == "testmon":
                _save(self.testmon_data, copy / ".testmondata")

    def _watched_edit(self, path: Path, original: bytes, edited: bytes) -> Timing:
        stream = self.stream
        saved = time.perf_counter()
        path.write_bytes(edited)
        try:
            first = None
            while True:
                arrived, line = stream.until(
                    lambda text: (
                        text.startswith(("FAIL", "ERROR"))
                        or " (exit " in text
                        or "no tests are affected" in text
                    )
                )
                if line.startswith(("FAIL", "ERROR")):
                    first = first if first is not None else arrived - saved
                    continue
                timing = Timing(first, arrived - saved)
                break
            stream.until(lambda text: "waiting for changes" in text)
        finally:
            path.write_bytes(original)
        stream.until(lambda text: " (exit " in text or "no tests are affected" in text)
        stream.until(lambda text: "waiting for changes" in text)
        return timing


def cases_of(project: str, only: list[str] | None) -> list[Case]:
    picked = [
        m
        for m in (*MUTATIONS, *FUNCTION_EDITS)
        if m.project == project
        and m.breaks
        and (m.kind == "function body" or m.kind in MODULE_LEVEL_KINDS)
        and (not only or any(text in m.label for text in only))
    ]
    return [Case(m) for m in picked]


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or not b else f"{a / b:.2f}"


def print_table(project: str, cases: list[Case]) -> None:
    print(f"\n{project}: medians in seconds from the save (first failure / end of the run)")
    print("| edit | kind | testwatch | testmon | pytest | tw/tm first | tw/tm end | tw/pytest end |")
    print("|---|---|---|---|---|---|---|---|")
    for case in cases:
        first = {tool: _median([t.first_failure_s for t in case.timings[tool]]) for tool in TOOLS}
        end = {tool: _median([t.end_s for t in case.timings[tool]]) for tool in TOOLS}
        cells = [f"{_seconds(first[tool])} / {_seconds(end[tool])}" for tool in TOOLS]
        print(
            f"| {case.mutation.label} | {case.mutation.kind} | {' | '.join(cells)} | "
            f"{_ratio(first['testwatch'], first['testmon'])} | {_ratio(end['testwatch'], end['testmon'])} | "
            f"{_ratio(end['testwatch'], end['pytest'])} |"
        )


def run_project(name: str, rounds: int, only: list[str] | None, cold: bool = False) -> list[Case]:
    project = Project(prepare(PROJECTS[name], WORK_ROOT), cold)
    cases = cases_of(name, only)
    print(f"{name}: recording baselines", file=sys.stderr)
    project.prepare()
    project.start_watch()
    try:
        for round_number in range(rounds + 1):
            for index, case in enumerate(cases):
                shift = (round_number + index) % len(TOOLS)
                for tool in TOOLS[shift:] + TOOLS[:shift]:
                    timing = project.measure(tool, case.mutation)
                    if round_number:
                        case.timings[tool].append(timing)
                    print(
                        f"  round {round_number} {case.mutation.label}: {tool} first "
                        f"{_seconds(timing.first_failure_s)} end {timing.end_s:.2f}",
                        file=sys.stderr,
                    )
    finally:
        project.stop_watch()
    return cases


def edit_arguments(description: str) -> tuple[argparse.ArgumentParser, list[str]]:
    """The options of the benchmarks that time edits (``--project``, ``--rounds``, ``--only``),
    and the projects they know."""
    parser = argparse.ArgumentParser(description=description)
    names = sorted({m.project for m in MUTATIONS})
    parser.add_argument("--project", action="append", choices=names, help="only this project (repeatable)")
    parser.add_argument("--rounds", type=int, default=5, help="counted rounds (after one warm-up round)")
    parser.add_argument(
        "--only", action="append", help="only edits whose label contains this text (repeatable)"
    )
    return parser, names


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser, names = edit_arguments(__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cold", action="store_true",
        help="testwatch with warm start off (warm = false), as for a project unsafe to fork",
    )
    args = parser.parse_args(argv)
    print(f"load average before: {load_average()}; {TESTMON}"
          f"{'; testwatch with warm = false' if args.cold else ''}")
    results = {name: run_project(name, args.rounds, args.only, args.cold) for name in args.project or names}
    for name, cases in results.items():
        print_table(name, cases)
    print(f"\nload average after: {load_average()}")
    return 0


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.exit(main())
