"""``testwatch check``: the quality gate for CI. Runs the suite (or, with ``--last``, looks at the
newest finished run in the history) and exits 1 when a test failed or a threshold was breached,
after a short table of what did. A coverage threshold makes the run record coverage.
"""

from __future__ import annotations

import argparse
import sys

from testwatch.cli.project import add_project_arguments, open_project
from testwatch.config.settings import Config
from testwatch.history.machine import machine_name
from testwatch.history.store import History
from testwatch.measure.breaches import describe_breach
from testwatch.model.events import EngineEvent, EngineNotice, RunFinished, ThresholdBreached
from testwatch.model.results import BAD_OUTCOMES
from testwatch.model.terminal_text import one_line, safe
from testwatch.model.wording import counted
from testwatch.run.engine import RunRequest, measured_engine
from testwatch.run.signals import run_cancellable

_SHOWN_PER_ROW = 3
NO_RUN = 4


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "check", help="quality gate: exit 1 on failed tests or breached thresholds",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_project_arguments(parser)
    parser.add_argument("--last", action="store_true", help="check the newest finished run instead")
    parser.add_argument("--memray", action="store_true", default=None, help="track every test with memray")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    project = open_project(args, memray=args.memray)
    try:
        for warning in project.history.warnings:
            print(f"warning: {warning}")
        if args.last:
            run_id = _last_run(project.history)
        else:
            finished = _run_suite(project, args.pytest_args)
            if isinstance(finished, int):  # interrupted: run_cancellable's exit status
                return finished
            run_id = finished.run_id
        if run_id is None:
            print("testwatch: no finished run in the history to check; run `testwatch check` "
                  "without --last first", file=sys.stderr)
            return NO_RUN
        return _gate(project.history, run_id)
    finally:
        project.history.close()


def _run_suite(project, pytest_args: list[str]) -> RunFinished | int:
    def listener(event: EngineEvent) -> None:
        if isinstance(event, EngineNotice):
            print(f"{event.severity}: {safe(event.message)}")

    if _measures_coverage(project.config):
        from testwatch.run.watch_loop import WatchLoop  # imports coverage.py: only when recording

        loop = WatchLoop(project.config, project.history, listener, watching=False)
        loop.pytest_args = list(pytest_args)
        return run_cancellable(loop.run_once("all", trigger="check"))

    engine = measured_engine(project.config, project.history, listener)

    async def go():
        try:
            return await engine.run(RunRequest(trigger="check", pytest_args=pytest_args))
        finally:
            engine.close()

    return run_cancellable(go())


def _measures_coverage(config: Config) -> bool:
    """Whether the check's run records coverage: when a coverage threshold needs it, unless the
    project's own ``coverage = false`` says not to (its ``coverage = true`` always does)."""
    if "coverage" in config.from_project:
        return config.coverage
    return config.thresholds.on_coverage


def _last_run(history: History) -> int | None:
    """The newest finished run of this machine; another machine's (imported) only if none is."""
    rows = list(history.rows(
        "select id from runs where status = 'finished' "
        "order by coalesce(machine = ?, 0) desc, id desc limit 1",
        [machine_name()],
    ))
    return rows[0]["id"] if rows else None


def _gate(history: History, run_id: int) -> int:
    """Print the table for ``run_id``; 0 when clean, 1 otherwise."""
    marks = ", ".join("?" * len(BAD_OUTCOMES))
    bad = list(history.rows(
        f"select nodeid, outcome from results where run_id = ? and outcome in ({marks}) order by id",
        [run_id, *sorted(BAD_OUTCOMES)],
    ))
    breaches = [
        ThresholdBreached(row["run_id"], row["kind"], row["value"], row["limit_value"],
                          row["nodeid"], row["path"])
        for row in history.rows("select * from breaches where run_id = ? order by id", [run_id])
    ]
    ran = next(history.rows("select count(*) as n from results where run_id = ?", [run_id]))["n"]
    rows: dict[str, list[str]] = {}
    for row in bad:
        rows.setdefault(row["outcome"], []).append(one_line(row["nodeid"]))
    for breach in breaches:
        rows.setdefault(breach.kind, []).append(safe(describe_breach(breach)))
    print(f"\ncheck of run {run_id}: {counted(ran, 'test')}")
    if not rows:
        print("OK: every test passed and no threshold was breached")
        return 0
    print(f"{'problem':<16} {'count':>5}  first")
    for kind, items in rows.items():
        print(f"{kind:<16} {len(items):>5}  {items[0]}")
        for item in items[1:_SHOWN_PER_ROW]:
            print(f"{'':<23}{item}")
        if len(items) > _SHOWN_PER_ROW:
            print(f"{'':<23}... {len(items) - _SHOWN_PER_ROW} more")
    print(f"FAILED: {counted(len(bad), 'test')} failed, {counted(len(breaches), 'threshold')} breached")
    return 1
