"""``testwatch seed BUNDLE [PATH]``: start a history's selection from a bundle another checkout made."""

from __future__ import annotations

import argparse
from pathlib import Path

from testwatch.cli.project import add_project_arguments, open_project

HELP = """Import a selection bundle (written in CI by testwatch run --deps --bundle FILE, or by
testwatch bundle) into this project's history: testwatch affected and the app then select from the
working tree's differences against the bundle's recorded state, with no local full run. A history
that holds a newer recording is left alone unless --force. Exit status 4 when the bundle cannot be
used (nothing is written then).
"""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "seed", help="start the selection from a bundle recorded elsewhere (CI)", description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("bundle", type=Path, help="the bundle file")
    add_project_arguments(parser)
    parser.add_argument("--force", action="store_true",
                        help="replace the history's recording even when it is newer than the bundle's")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from testwatch.collectors.in_testwatch.project_files import IgnoreRules
    from testwatch.select.bundle import read_bundle
    from testwatch.select.seeding import seed_history

    bundle = read_bundle(args.bundle)  # checked whole before the history is opened
    project = open_project(args)
    config, history = project.config, project.history
    try:
        for warning in history.warnings:
            print(f"warning: {warning}")
        rules = IgnoreRules(config.root, config.ignore, config.history_path)
        seeded = seed_history(
            history, config.root, rules, bundle, str(args.bundle), config.python, args.force)
    finally:
        history.close()
    revision = f" at revision {bundle.git_revision}" if bundle.git_revision else ""
    if seeded.already:
        print(f"{config.history_path} already holds the recording of {args.bundle} "
              f"({bundle.recorded_at}{revision}); nothing was written")
        return 0
    print(f"seeded {config.history_path} from {args.bundle}: {seeded.tests} tests, {seeded.deps} "
          f"dependencies over {seeded.files} files, recorded {bundle.recorded_at}{revision}")
    if seeded.differing_files:
        shown = ", ".join(seeded.differing_files[:5]) + (" ..." if len(seeded.differing_files) > 5 else "")
        count = len(seeded.differing_files)
        files = "1 recorded file differs" if count == 1 else f"{count} recorded files differ"
        print(f"{files} here and count{'s' if count == 1 else ''} as changed: {shown}")
    if seeded.environment_difference:
        print(f"every test is selected until a complete local testwatch run --deps: the environment "
              f"differs from the bundle's ({seeded.environment_difference})")
    return 0
