"""``testwatch run``: run the tests once, headless, and record them in the history."""

from __future__ import annotations

import argparse
from pathlib import Path

from testwatch.cli.project import Project, add_project_arguments, project_config
from testwatch.config.settings import Config
from testwatch.run.launch import EarlyChild, RecordedStart, launch_early, launch_recorded, launch_waiting
from testwatch.select.recording_mode import recording_requested

HELP = """Run the project's tests once in a pytest child and record every result.

Exit status, as pytest's: 0 all tests passed, 1 some failed/errored/crashed/timed out,
2 interrupted, 3 pytest internal error, 4 pytest usage error, 5 no tests collected. A test file
that fails to collect is an error and the others run (--continue-on-collection-errors): 1, where
pytest alone stops with 2.
Arguments after -- go to pytest unchanged, e.g. testwatch run -- -n 2 -k slow.
"""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "run", help="run the tests once, headless", description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_project_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object per event")
    parser.add_argument(
        "--warm", action="store_true", default=None,
        help="fork pytest from a process that already imported the third-party dependencies "
        "(config: warm = true); falls back to a cold start whenever that is unsafe",
    )
    parser.add_argument(
        "--memray", action="store_true", default=None,
        help="track every test's heap with memray: peak, top allocations, leaks (config: memray = true)",
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--all", action="store_true", help="run every test (the default)")
    scope.add_argument("--failed", action="store_true", help="run the tests that failed last")
    scope.add_argument("--affected", action="store_true",
                       help="run the tests the working tree's changes affect (records dependencies)")
    parser.add_argument("--deps", "--coverage", dest="record", action="store_true",
                        help="record each test's dependencies and the run's coverage (slower; "
                        "also on with --affected or an explicit coverage = true in config)")
    parser.add_argument("--bundle", type=Path, metavar="FILE",
                        help="record dependencies and write them as a selection bundle for "
                        "testwatch seed on another checkout (as testwatch bundle -o FILE)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = project_config(args, warm=args.warm, memray=args.memray)
    recording = bool(args.affected or args.record or args.bundle or recording_requested(config))
    early = started = None
    try:
        # A run of every test starts pytest first: the imports and history work below overlap
        # its start-up.
        if _cold_whole_run(args, config):
            if recording:
                started = launch_recorded(config, args.pytest_args)
            else:
                early = launch_early(config, args.pytest_args)
        elif _cold_affected_run(args, config):
            # Its arguments wait for the selection; pytest's imports overlap it meanwhile.
            early = launch_waiting(config)
        return _run(args, config, recording, early, started)
    finally:
        if early is not None:
            early.discard()  # a no-op once the engine adopted it
        if started is not None:
            started.discard()


def _run(
    args: argparse.Namespace, config: Config, recording: bool, early: EarlyChild | None,
    started: RecordedStart | None,
) -> int:
    from testwatch.cli.reporter import JsonReporter, LineReporter
    from testwatch.history.store import open_history
    from testwatch.run.engine import RunRequest, measured_engine
    from testwatch.run.failed_tests import failed_last_time
    from testwatch.run.signals import run_cancellable

    project = Project(config, open_history(config.history_path))
    reporter = JsonReporter() if args.json else LineReporter()
    for warning in project.history.warnings:
        print(f"warning: {warning}")
    if recording:
        from testwatch.run.watch_loop import run_recorded  # imports coverage.py: only when recording

        status = run_recorded(project, reporter, args, started, early)
        return _write_bundle(config, args.bundle, status) if args.bundle else status
    request = RunRequest(trigger="manual", pytest_args=args.pytest_args)
    if args.failed:
        failed = failed_last_time(project.history, config.root)
        request = RunRequest(
            trigger="failed", select=failed, pytest_args=args.pytest_args,
            reasons=dict.fromkeys(failed, "failed last time"),
        )
    engine = measured_engine(project.config, project.history, reporter)

    async def go() -> int:
        try:
            return (await engine.run(request, early)).exit_status
        finally:
            engine.close()

    try:
        return run_cancellable(go())
    finally:
        project.history.close()


def _write_bundle(config: Config, output: Path, status: int) -> int:
    """After a recorded run: its bundle, when it recorded every test; else the run's status, or
    4 when it passed (CI must notice the missing file)."""
    import os
    import sys

    from testwatch.cli.commands.bundle import write_from_history
    from testwatch.cli.main import USAGE_ERROR
    from testwatch.history.store import open_history
    from testwatch.select.bundle import BundleError

    history = open_history(config.history_path)
    (run_id,) = history.conn.execute("select max(id) from runs where pid = ?", [os.getpid()]).fetchone()
    try:
        print(write_from_history(Project(config, history), output, run_id))
    except BundleError as exc:
        print(f"testwatch: {exc}", file=sys.stderr)
        return status or USAGE_ERROR
    return status


def _cold_affected_run(args: argparse.Namespace, config: Config) -> bool:
    """A run of the tests the changes affect, cold, no memray: its recording child can start
    before the selection is made."""
    return args.affected and not (config.warm or config.memray)


def _cold_whole_run(args: argparse.Namespace, config: Config) -> bool:
    """A run whose child needs nothing but the config: every test, cold, no memray (recorded or
    not: a recording's start needs no history)."""
    return not (args.affected or args.failed or config.warm or config.memray)
