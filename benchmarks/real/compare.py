"""The real-project proving ground: testwatch beside the reference tools on real projects' suites.

    python benchmarks/real/compare.py [--projects itsdangerous,tomlkit] [--rounds 3] [--work DIR]

For each project of ``real_manifest.PROJECTS`` (pinned sdists, each unpacked under
benchmarks/.work/real/ with a venv of its own holding the project, its pinned test dependencies,
the pinned tools and testwatch from this checkout) it prints, side by side with the reference
tools: per-test outcomes against plain pytest, per-file and total coverage against coverage.py,
the planted 64 MiB test's memory against memray, latency alarms after runs under other measuring
modes, and the wall and CPU time of plain pytest, ``testwatch run``, ``testwatch run --deps``
(the app's first run, from an empty history and no parse caches), the same ``--deps`` run again
with that history and those caches kept, and ``pytest --testmon`` (from an empty data file),
interleaved round by round, medians. ``--wall-only`` prints the times alone. Exits 1 when a
check fails, naming it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_checks import COVERAGE_TOLERANCE_POINTS, MEMORY_TOLERANCE, MIB, ProjectReport, check_project
from real_manifest import PROJECTS
from real_runs import Spent, TestwatchRun, plain_pytest, testmon_from_scratch, testwatch_run
from real_setup import PLANTED_MIB, ProjectEnv, ensure_testmon, prepare

WORK = Path(__file__).resolve().parents[1] / ".work" / "real"
# What testwatch keeps beside its history by file content (parses, coverage rows): a recording
# "from scratch" starts without them.
CACHES = ("file-blocks.json", "coverage-rows.json", "module-facts.json")
SHOWN_DIFFERENCES = 20


def wall_times(env: ProjectEnv, rounds: int) -> dict[str, list[Spent]]:
    """Plain pytest, ``testwatch run``, ``testwatch run --deps`` from an empty history and no
    parse caches, the same again with that history and those caches kept (what every later
    recording of unchanged code pays) and ``pytest --testmon`` from an empty data file (the
    reference for recording's cost), interleaved."""
    kept_db = env.work / "wall.db"
    first_db = env.work / "wall-first.db"
    for stale in [*env.work.glob("wall.db*"), *env.work.glob("wall-first.db*")]:
        stale.unlink()
    ensure_testmon(env)
    times: dict[str, list[Spent]] = {
        "pytest": [], "testwatch run": [], "testwatch run --deps": [], "run --deps again": [],
        "pytest --testmon": [],
    }
    for _ in range(rounds):
        times["pytest"].append(plain_pytest(env))
        times["testwatch run"].append(_spent(testwatch_run(env, kept_db)))
        for stale in [*env.work.glob("wall-first.db*"), *(env.work / name for name in CACHES)]:
            stale.unlink(missing_ok=True)
        times["testwatch run --deps"].append(_spent(testwatch_run(env, first_db, "deps")))
        times["run --deps again"].append(_spent(testwatch_run(env, first_db, "deps")))
        testmon = testmon_from_scratch(env)
        if testmon is not None:
            times["pytest --testmon"].append(testmon)
    return {tool: spent for tool, spent in times.items() if spent}


def _spent(run: TestwatchRun) -> Spent:
    return Spent(run.wall_s, run.cpu_s)


def print_report(report: ProjectReport, times: dict[str, list[Spent]]) -> None:
    project = report.env.project
    print(f"\n== {project.name} {project.version} ({sum(report.outcomes.reference.values())} tests)")
    _print_outcomes(report)
    _print_coverage(report)
    _print_memory(report)
    _print_latency(report)
    _print_wall(times)
    failures = report.failures()
    print(f"   result: {'FAIL: ' + '; '.join(failures) if failures else 'all checks passed'}")


def _counts(counter) -> str:
    return ", ".join(f"{count} {outcome}" for outcome, count in sorted(counter.items())) or "nothing"


def _print_outcomes(report: ProjectReport) -> None:
    check = report.outcomes
    print(f"   outcomes  plain pytest: {_counts(check.reference)}")
    for label, counter in check.testwatch.items():
        same = "same" if counter == check.reference else _counts(counter)
        print(f"             testwatch {label}: {same}")
    for label, nodeid, expected, seen in check.differing[:SHOWN_DIFFERENCES]:
        print(f"             DIFFERS {label}: {nodeid}: pytest {expected}, testwatch {seen}")
    for label, nodeid, expected, seen, why in check.known:
        print(f"             known {label}: {nodeid}: pytest {expected}, testwatch {seen} ({why})")
    if len(check.differing) > SHOWN_DIFFERENCES:
        print(f"             ... and {len(check.differing) - SHOWN_DIFFERENCES} more differences")
    verdict = "OK" if check.ok else "FAIL"
    print(f"             -> {verdict}: {len(check.differing)} (run, nodeid) pairs differ")


def _print_coverage(report: ProjectReport) -> None:
    check = report.coverage
    print(f"   coverage  total: coverage.py {check.reference_total:.2f}%,"
          f" testwatch {check.testwatch_total:.2f}% (off {check.total_deviation:.2f} points)"
          f" over {check.files} files")
    print(f"             worst file {check.worst_file}: coverage.py {check.worst_reference:.2f}%,"
          f" testwatch {check.worst_testwatch:.2f}% (off {check.worst_deviation:.2f})")
    verdict = "OK" if check.ok else "FAIL"
    print(f"             -> {verdict}: {len(check.deviations)} files off by more than"
          f" {COVERAGE_TOLERANCE_POINTS} points")


def _print_memory(report: ProjectReport) -> None:
    check = report.memory
    print(f"   memory    planted {PLANTED_MIB} MiB test:"
          f" memray {check.memray_peak_bytes / MIB:.2f} MiB held at its peak")
    for column, (value, label) in check.figures.items():
        deviation = check.deviation(column)
        shown = "-" if value is None else f"{value / MIB:.2f} MiB [{label}] ({deviation:+.1%})"
        print(f"             testwatch {column}: {shown}")
    small = ", ".join(f"{column} {'-' if value is None else f'{value / 1024:.0f} KiB'}"
                      for column, value in check.small_figures.items())
    print(f"             test allocating nothing: {small}")
    example = ""
    if check.exact_not_peak:
        nodeid, figure, sampled = check.exact_not_peak[0]
        example = f" (e.g. {nodeid}: {figure / MIB:.1f} MiB while the process held {sampled / MIB:.1f} MiB)"
    print(f"             labelled exact with a live sample during the test: {check.exact_checked},"
          f" below that sample's RSS: {len(check.exact_not_peak)}{example}")
    print(f"             -> {'OK' if check.ok else 'FAIL: ' + '; '.join(check.problems)}"
          f" (tolerance {MEMORY_TOLERANCE:.0%})")


def _print_latency(report: ProjectReport) -> None:
    sequence = ", ".join(f"{run.mode} {run.alarms}" for run in report.runs)
    print(f"   latency   tests flagged slower, run by run: {sequence}")
    for run in report.runs:
        if run.alarms:
            print(f"             {run.mode} run {run.run_id}: {run.alarm_line[:300]}")
    verdict = "OK" if not report.false_alarms else "FAIL"
    print(f"             -> {verdict}: {report.false_alarms} false alarms")


def _print_wall(times: dict[str, list[Spent]]) -> None:
    for label, field in (("wall", "wall_s"), ("cpu", "cpu_s")):
        medians = {tool: statistics.median(getattr(s, field) for s in spent) for tool, spent in times.items()}
        anchor = medians["pytest"]
        shown = ", ".join(f"{tool} {value:.2f} s ({value / anchor:.2f}x)" for tool, value in medians.items())
        print(f"   {label:<9} median of {len(times['pytest'])}: {shown}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    known = ", ".join(PROJECTS)
    parser.add_argument("--projects", default=",".join(PROJECTS), help=f"comma-separated, of: {known}")
    parser.add_argument("--rounds", type=int, default=3, help="wall-time rounds (median)")
    parser.add_argument("--work", type=Path, default=WORK, help="where sdists, projects and venvs go")
    parser.add_argument("--wall-only", action="store_true",
                        help="only the wall times (no outcome, coverage, memory or latency checks)")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.projects.split(",") if name.strip()]
    unknown = [name for name in names if name not in PROJECTS]
    if unknown:
        parser.error(f"unknown project {unknown[0]!r}; known: {known}")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Python {platform.python_version()},"
          f" {os.cpu_count()} cores, load {' '.join(f'{load:.1f}' for load in os.getloadavg())}")
    failed = []
    for name in names:
        env = prepare(PROJECTS[name], args.work.resolve())
        if args.wall_only:
            print(f"\n== {env.project.name} {env.project.version}")
            _print_wall(wall_times(env, args.rounds))
            continue
        report = check_project(env)
        times = wall_times(env, args.rounds)
        print_report(report, times)
        failed += [f"{name}: {failure}" for failure in report.failures()]
    print(f"\nload at the end {' '.join(f'{load:.1f}' for load in os.getloadavg())}")
    if failed:
        print("FAILED checks:\n  " + "\n  ".join(failed))
        return 1
    print("every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
