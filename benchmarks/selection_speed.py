"""Selection speed on a big project: the time from "a file was saved" to "these tests are affected".

Generates 10,000 tests in 500 files (benchmarks/generate_suite.py; each test file imports its own
module and one of a few shared modules, and every test calls both), records dependencies once with
the real ``testwatch run --deps``, then in each round makes a one-line edit to a function body and
times the selection in-process, two ways:

- watch loop: one long-lived ``Selector`` over one ``FileStates`` (what ``WatchLoop`` keeps and calls
  before each run starts pytest);
- affected: load the config, open the history, build ``FileStates`` and ``Selector``, select, close
  (what ``testwatch affected`` and ``testwatch run --affected`` do on each call, after the
  interpreter has started and imported testwatch); this is the figure the target applies to.

Beside them, for information, ``affected CLI``: the wall time of a whole ``python -m testwatch
affected`` process (interpreter start, imports, the above, printing), with no target verdict.

Rounds alternate between editing a per-file module (``pkg/mod_<i>.py``, few tests affected) and a
shared module (``pkg/shared_<k>.py``, a fifth of the suite affected). Each edit is reverted after the
round and the caches are brought up to date untimed, as a run's recording would. Prints medians in ms
and the number of tests selected. Target (issue 7): < 100 ms.

    /work/venv/bin/python benchmarks/selection_speed.py [--tests 10000 --files 500 --rounds 7]
        [--work DIR]   # keep the suite and its recorded history in DIR and reuse them next time
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate_suite import generate_suite  # a sibling script, not a package

from testwatch.collectors.in_testwatch.project_files import IgnoreRules
from testwatch.config.settings import load_config
from testwatch.history.store import open_history
from testwatch.select.file_states import FileStates
from testwatch.select.selection import Selector

TARGET_MS = 100.0
SHARED_MODULES = 5


def record_deps(root: Path, db: Path) -> float:
    """One full ``testwatch run --deps``; its wall seconds."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "testwatch", "run", str(root), "--db", str(db), "--deps"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"testwatch run --deps failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return time.perf_counter() - started


def edit_body(path: Path, old: str, round_number: int) -> str:
    """Change one line of a function body (a different value each round); returns the original."""
    original = path.read_text(encoding="utf-8")
    edited = original.replace(old, f"{old} + 0 * {round_number + 1}", 1)
    if edited == original:
        raise SystemExit(f"{path}: the line {old!r} to edit is not there")
    path.write_text(edited, encoding="utf-8")
    return original


class Contenders:
    """The watch loop's long-lived selector and a fresh ``testwatch affected`` each call."""

    def __init__(self, root: Path, db: Path) -> None:
        self.root, self.db = root, db
        self.config = load_config(root, {"history": str(db)})
        self.history = open_history(self.config.history_path)
        self.rules = IgnoreRules(self.config.root, self.config.ignore, self.config.history_path)
        self.watch_selector = Selector(self.config, self.history, self.rules,
                                       FileStates(self.config.root, self.history))

    def affected_cli(self):
        """A whole ``testwatch affected`` process; its selection count is parsed from the last line."""
        done = subprocess.run(
            [sys.executable, "-m", "testwatch", "affected", str(self.root), "--db", str(self.db)],
            capture_output=True, text=True, check=True,
        )
        last = done.stdout.splitlines()[-1]
        if last.startswith("every test"):
            return CliSelection(0, everything=True, everything_reason=last)
        return CliSelection(int(last.split()[0]))

    def watch_loop(self):
        """The selection as ``WatchLoop._build_request`` computes it."""
        return self.watch_selector.select()

    def affected(self):
        """The selection as ``testwatch affected`` computes it, history opened and closed included."""
        config = load_config(self.root, {"history": str(self.db)})
        history = open_history(config.history_path)
        try:
            rules = IgnoreRules(config.root, config.ignore, config.history_path)
            return Selector(config, history, rules, FileStates(config.root, history)).select()
        finally:
            history.close()


@dataclass
class CliSelection:
    """What the benchmark reads back from a ``testwatch affected`` process."""

    count: int
    everything: bool = False
    everything_reason: str = ""

    @property
    def selected(self) -> range:
        return range(self.count)


def timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


CONTENDERS = ("watch loop", "affected", "affected CLI")


def time_edits(contenders: Contenders, files: int, rounds: int, profile: bool = False) -> list[str]:
    """Edit, time each contender's selection, revert, ``rounds`` times per kind of edit; the lines
    of medians to print."""
    root = contenders.root
    contenders.watch_loop()  # the loop's first selection at start-up, before any edit
    figures: dict[tuple[str, str], list[float]] = {}
    counts: dict[str, set[int]] = {}
    for round_number in range(rounds):
        for kind, path, line in (
            ("per-file module", root / "pkg" / f"mod_{(round_number * 37) % files}.py", "return a + b"),
            ("shared module", root / "pkg" / f"shared_{round_number % SHARED_MODULES}.py",
             "return max(low, min(value, high))"),
        ):
            original = edit_body(path, line, round_number)
            try:
                for name in CONTENDERS:
                    elapsed_ms, selection = timed(getattr(contenders, name.lower().replace(" ", "_")))
                    if selection.everything:
                        raise SystemExit(f"selected everything: {selection.everything_reason}")
                    figures.setdefault((kind, name), []).append(elapsed_ms)
                    counts.setdefault(kind, set()).add(len(selection.selected))
                if profile and round_number == rounds - 1:
                    profiler = cProfile.Profile()
                    profiler.runcall(contenders.watch_selector.select)
                    print(f"profile of a watch-loop selection after editing {path.name}:")
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(18)
            finally:
                path.write_text(original, encoding="utf-8")
            contenders.watch_loop()  # untimed: caches catch up, as after the run's recording
    lines = [f"{rounds} rounds per edit, medians:"]
    for (kind, name), values in figures.items():
        median_ms = statistics.median(values)
        verdict = "met" if median_ms < TARGET_MS else "MISSED"
        selected = "/".join(str(n) for n in sorted(counts[kind]))
        target = "whole process, no target" if name == "affected CLI" else (
            f"target < {TARGET_MS:.0f} ms: {verdict}")
        lines.append(f"  {kind:<16} {name:<12} {median_ms:7.1f} ms  ({selected} tests selected; {target})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=7, help="rounds per kind of edit")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one watch-loop selection")
    parser.add_argument("--work", type=Path, help="keep the suite and history here and reuse them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tw-select-") as scratch:
        folder = args.work or Path(scratch)
        root, db = folder / "suite", folder / "history.db"
        if db.exists():
            recorded = "reused the recorded history"
        else:
            generate_suite(root, args.tests, args.files, SHARED_MODULES)
            recorded = f"testwatch run --deps took {record_deps(root, db):.1f} s"
        contenders = Contenders(root, db)
        deps_rows = next(contenders.history.rows("select count(*) as n from test_deps"))["n"]
        print(f"{args.tests:,} tests in {args.files} files, {SHARED_MODULES} shared modules; "
              f"{recorded}; {deps_rows:,} test_deps rows")
        print("\n".join(time_edits(contenders, args.files, args.rounds, args.profile)))
        contenders.history.close()


if __name__ == "__main__":
    main()
