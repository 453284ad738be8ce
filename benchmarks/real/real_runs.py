"""Run a prepared real project's suite through the reference tools and through testwatch's CLI.

Reference tools: plain pytest (per-test outcomes from pytest-json-report), ``coverage run
--source=PACKAGES -m pytest`` plus ``coverage json``, and ``memray run -m pytest`` read back with
memray's ``FileReader``. testwatch: ``python -m testwatch run`` in the project's venv, its figures
read back with ``python -m testwatch export --format json``. Every command runs in the project's
venv, in its root, with a developer's environment (bytecode caching on).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from real_setup import ProjectEnv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from user_env import user_env

RUN_TIMEOUT_S = 900
_ALARM_MARK = "slower than their recent runs:"
_ALARM_TEST = re.compile(r"\(\d+ ms, usually \d+ ms\)")
_ALARM_MORE = re.compile(r" and (\d+) more")
_MEMRAY_READER = """
import json, sys
from memray import FileReader
reader = FileReader(sys.argv[1])
held = sum(
    record.size
    for record in reader.get_high_watermark_allocation_records(merge_threads=True)
    if any(frame[0] == sys.argv[2] for frame in record.stack_trace())
)
print(json.dumps({"test_peak": held, "process_peak": reader.metadata.peak_memory}))
"""


@dataclass(frozen=True)
class TestwatchRun:
    """One ``testwatch run`` of the project: its history row and what its summary flagged."""

    mode: str  # "default", "memray" or "deps"
    run_id: int
    exit_status: int
    wall_s: float
    cpu_s: float  # user + system time of the command and its children
    alarms: int  # tests flagged "slower than their recent runs"
    alarm_line: str


@dataclass(frozen=True)
class Spent:
    """What one command took: wall time, and CPU time (user + system, its children included)."""

    wall_s: float
    cpu_s: float


def _run(
    env: ProjectEnv, command: list[str], extra_env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess, Spent]:
    """Run ``command`` in the project; once more if a signal from outside killed it (shared machine)."""
    done, spent = _run_once(env, command, extra_env)
    if done.returncode < 0:
        print(f"note: killed by signal {-done.returncode}, run again: {' '.join(command[:6])} ...",
              file=sys.stderr)
        done, spent = _run_once(env, command, extra_env)
    return done, spent


def _run_once(
    env: ProjectEnv, command: list[str], extra_env: dict[str, str] | None
) -> tuple[subprocess.CompletedProcess, Spent]:
    before = os.times()
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=env.root, env={**_child_env(), **(extra_env or {})}, capture_output=True,
        text=True, timeout=RUN_TIMEOUT_S,
    )
    wall_s = time.perf_counter() - started
    after = os.times()
    cpu_s = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return done, Spent(wall_s, cpu_s)


def _child_env() -> dict[str, str]:
    return {name: value for name, value in user_env().items() if name != "TESTWATCH_DB"}


def pytest_command(env: ProjectEnv, *extra: str) -> list[str]:
    return [str(env.python), "-m", "pytest", *env.project.pytest_args, *extra]


def plain_pytest(env: ProjectEnv) -> Spent:
    """Wall time of plain pytest on the suite (its exit status is the project's business)."""
    done, spent = _run(env, pytest_command(env, "-q"))
    _expect_tests_ran(done)
    return spent


def testmon_from_scratch(env: ProjectEnv) -> Spent | None:
    """Wall time of ``pytest --testmon`` recording the whole suite from an empty data file (kept
    in the scratch folder through TESTMON_DATAFILE, so the project's tree stays as it was); None,
    with a note, when testmon stops the session with an internal error (jinja2 3.1.6: an
    ``IndexError`` after 750 of 909 tests), whose time is not a whole suite's."""
    data = env.work / "testmondata"
    for stale in env.work.glob("testmondata*"):
        stale.unlink()
    done, spent = _run(env, pytest_command(env, "-q", "--testmon"), {"TESTMON_DATAFILE": str(data)})
    if done.returncode == 3 and "INTERNALERROR" in done.stdout + done.stderr:
        print(f"note: pytest --testmon stopped with an internal error on {env.project.name}; "
              "its time is left out", file=sys.stderr)
        return None
    _expect_tests_ran(done)
    return spent


def reference_outcomes(env: ProjectEnv) -> dict[str, str]:
    """Every test's outcome under plain pytest (pytest-json-report), collection errors and test
    files skipped at collection included, as pytest's summary counts them."""
    report = env.work / "pytest-report.json"
    done, _ = _run(env, pytest_command(env, "-q", "--json-report", f"--json-report-file={report}"))
    _expect_tests_ran(done)
    data = json.loads(report.read_text(encoding="utf-8"))
    outcomes = {test["nodeid"]: test["outcome"] for test in data["tests"]}
    for collector in data.get("collectors", []):
        if collector["outcome"] == "failed":
            outcomes[collector["nodeid"]] = "error"
        elif collector["outcome"] == "skipped" and collector["nodeid"]:  # a file skipped whole
            outcomes[collector["nodeid"]] = "skipped"
    return outcomes


def reference_coverage(env: ProjectEnv) -> dict[str, tuple[int, int]]:
    """Per file of the measured packages: (statements, covered lines) by coverage.py."""
    data_file = env.work / ".coverage"
    for stale in env.work.glob(".coverage*"):
        stale.unlink()
    source = ",".join(env.project.packages)
    coverage = [str(env.python), "-m", "coverage"]
    done, _ = _run(env, [*coverage, "run", f"--data-file={data_file}", f"--source={source}",
                         "-m", "pytest", *env.project.pytest_args, "-q"])
    _expect_tests_ran(done)
    _run(env, [*coverage, "combine", f"--data-file={data_file}"])  # a project may set parallel = true
    report = env.work / "coverage.json"
    done, _ = _run(env, [*coverage, "json", f"--data-file={data_file}", "-o", str(report)])
    if done.returncode != 0:
        raise RuntimeError(f"coverage json failed:\n{done.stdout}{done.stderr}")
    files = json.loads(report.read_text(encoding="utf-8"))["files"]
    return {
        path: (summary["summary"]["num_statements"], summary["summary"]["covered_lines"])
        for path, summary in files.items()
    }


def reference_memray_peak(env: ProjectEnv, test: str) -> int:
    """Bytes memray saw held at the process's heap peak by allocations made inside ``test``."""
    capture = env.work / "memray-planted.bin"
    nodeid = env.planted_nodeid(test)
    done, _ = _run(env, [str(env.python), "-m", "memray", "run", "-q", "-f", "-o", str(capture),
                         "-m", "pytest", "-q", "-p", "no:cacheprovider", nodeid])
    if done.returncode != 0:
        raise RuntimeError(f"memray run on {nodeid} failed:\n{done.stdout}{done.stderr}")
    done, _ = _run(env, [str(env.python), "-c", _MEMRAY_READER, str(capture), test])
    if done.returncode != 0:
        raise RuntimeError(f"reading the memray capture failed:\n{done.stderr}")
    return int(json.loads(done.stdout)["test_peak"])


def testwatch_run(env: ProjectEnv, db: Path, mode: str = "default") -> TestwatchRun:
    """``testwatch run`` on the project's suite; ``mode`` "memray" or "deps" adds that flag."""
    flags = {"default": [], "memray": ["--memray"], "deps": ["--deps"]}[mode]
    command = [str(env.python), "-m", "testwatch", "run", str(env.root), "--db", str(db), *flags,
               "--", *env.project.pytest_args]
    done, spent = _run(env, command)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"testwatch run ({mode}) exited {done.returncode}:\n{done.stdout[-3000:]}"
                           f"{done.stderr[-3000:]}")
    alarm_line = next((line for line in done.stdout.splitlines() if _ALARM_MARK in line), "")
    runs = testwatch_rows(env, db, "runs")
    return TestwatchRun(mode, max(row["id"] for row in runs), done.returncode, spent.wall_s, spent.cpu_s,
                        count_alarms(alarm_line), alarm_line.strip())


def count_alarms(alarm_line: str) -> int:
    """How many tests a "slower than their recent runs" line flags (named ones plus "N more")."""
    if not alarm_line:
        return 0
    more = _ALARM_MORE.search(alarm_line)
    return len(_ALARM_TEST.findall(alarm_line)) + (int(more.group(1)) if more else 0)


def testwatch_rows(env: ProjectEnv, db: Path, table: str, run_id: int | None = None) -> list[dict]:
    """A table of testwatch's history through ``testwatch export --format json``."""
    command = [str(env.python), "-m", "testwatch", "export", str(env.root), "--db", str(db),
               "--table", table, "--format", "json"]
    if run_id is not None:
        command += ["--run", str(run_id)]
    done, _ = _run(env, command)
    if done.returncode != 0:
        raise RuntimeError(f"testwatch export --table {table} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def _expect_tests_ran(done: subprocess.CompletedProcess) -> None:
    if done.returncode not in (0, 1):
        raise RuntimeError(f"pytest exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
