"""``testwatch bundle [PATH] -o FILE``: write the history's latest complete dependency recording as a
selection bundle, for ``testwatch seed`` on another checkout."""

from __future__ import annotations

import argparse
from pathlib import Path

from testwatch import __version__
from testwatch.cli.project import add_project_arguments, open_project

HELP = """Write the selection bundle of the history's latest complete dependency recording (made by
testwatch run --deps): dependencies and fingerprints, git revision, each test's outcome and
duration, the environment's fingerprint, paths relative to the project root. testwatch run --deps
--bundle FILE does the same right after its run. Exit status 4 when there is no complete recording.
"""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "bundle", help="write the latest dependency recording as a bundle for testwatch seed",
        description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_project_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="the bundle to write")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print(write_from_history(open_project(args), args.output))
    return 0


def write_from_history(project, output: Path, run_id: int | None = None) -> str:
    """Write the bundle of ``project``'s history (closed after) to ``output``; one line to print.
    ``run_id``: the run whose recording is wanted; BundleError when the latest is another's."""
    from testwatch.collectors.in_testwatch.project_files import IgnoreRules
    from testwatch.select.bundle import BundleError, write_bundle
    from testwatch.select.seeding import bundle_from_history, latest_recording

    config, history = project.config, project.history
    try:
        if run_id is not None and getattr(latest_recording(history.conn), "run_id", None) != run_id:
            raise BundleError(f"no bundle written: this run did not record every test, so "
                              f"{output} would not describe it")
        rules = IgnoreRules(config.root, config.ignore, config.history_path)
        bundle = bundle_from_history(history, config.root, rules, config.python)
    finally:
        history.close()
    bundle.testwatch_version = __version__
    size_bytes = write_bundle(bundle, output)
    revision = f" at revision {bundle.git_revision}" if bundle.git_revision else ""
    return (f"wrote {output}: {len(bundle.results)} tests, {len(bundle.deps)} dependencies over "
            f"{len(bundle.states)} files, recorded {bundle.recorded_at}{revision} ({size_bytes // 1024} KiB)")
