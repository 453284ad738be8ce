"""Selection benchmark on real code: recall and selected counts of testwatch and pytest-testmon
on the mutations of ``mutation_catalog.py``.

Per project (a copy of the proving ground's unpacked sdist, run in its venv from
``real_setup.py`` with the copy first on PYTHONPATH): one baseline, cached until the project or
the testwatch sources that record it change (not the selection's own): plain pytest's outcome of
every test, ``testwatch run --deps`` and ``pytest --testmon``. Then per mutation: the edit;
ground truth = the tests whose outcome differs between the baseline and a full plain pytest run
of the mutated copy (a test whose file no longer imports counts; an id only one run has, a
parameter made of the time or a changed value, does not: no tool can select a test it never
saw); testwatch's selection = ``testwatch affected --json``; testmon's = ``pytest --testmon
--collect-only -q`` (the tests it keeps); recall = |truth & selected| / |truth|; then the file is
restored and both tools' data put back as the baseline left them.

    python benchmarks/real/mutations.py [--project NAME ...] [--json OUT]

Needs the pinned pytest-testmon in each venv (``real_setup.prepare`` does not install it; this
script does, from the index pip is configured with).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from mutation_catalog import MODULE_LEVEL_KINDS, MUTATIONS, Mutation
from real_manifest import PROJECTS
from real_setup import REPO, ProjectEnv, ensure_testmon, prepare

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from user_env import user_env

WORK_ROOT = REPO / "benchmarks" / ".work" / "real"
RUN_TIMEOUT_S = 900
_BASELINE_VERSION = 3  # bump when what the baseline holds changes
# Sources that decide a selection but play no part in recording one: a change there keeps the baseline.
CATALOG_PROJECTS = sorted({m.project for m in MUTATIONS})
_SELECTION_ONLY = frozenset(
    {"testwatch/select/selection.py", "testwatch/select/module_names.py", "testwatch/select/import_time.py"}
)


@dataclass(frozen=True)
class Outcome:
    """One mutation's figures."""

    project: str
    label: str
    kind: str
    breaks: bool
    truth: list[str]
    testwatch_selected: int
    testmon_selected: int
    testwatch_recall: float | None  # None: no test changed outcome
    testmon_recall: float | None
    testwatch_missed: list[str]
    testmon_missed: list[str]
    testwatch_everything: bool


class Bench:
    """One project's copy, its baseline and the commands run on it."""

    def __init__(self, env: ProjectEnv) -> None:
        self.env = env
        self.copy = WORK_ROOT / "mutations" / env.project.name
        self.state = WORK_ROOT / "mutations" / f"{env.project.name}.baseline"
        self.db = self.state / "history.db"
        import_root = self.copy / "src" if (env.root / "src").is_dir() else self.copy
        self.child_env = {name: value for name, value in user_env().items() if name != "TESTWATCH_DB"}
        self.child_env["PYTHONPATH"] = str(import_root)

    def run(self, command: list[str], check_ran: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            command, cwd=self.copy, env=self.child_env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
        )
        if check_ran and done.returncode not in (0, 1):
            raise RuntimeError(
                f"{' '.join(command[:8])} exited {done.returncode}:\n"
                f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
            )
        return done

    def pytest(self, *extra: str) -> list[str]:
        return [str(self.env.python), "-m", "pytest", *self.env.project.pytest_args, *extra]

    # ----- baseline

    def baseline(self) -> dict[str, str]:
        """Baseline outcomes; records both tools' baselines first when the cache is stale."""
        stamp = self.state / "stamp.json"
        key = _baseline_key(self.env)
        if stamp.exists() and self.copy.exists():
            saved = json.loads(stamp.read_text(encoding="utf-8"))
            if saved["key"] == key:
                return saved["outcomes"]
        shutil.rmtree(self.copy, ignore_errors=True)
        shutil.rmtree(self.state, ignore_errors=True)
        shutil.copytree(
            self.env.root,
            self.copy,
            ignore=shutil.ignore_patterns(
                "__pycache__", ".pytest_cache", ".testmondata*", ".testwatch*", ".hypothesis"
            ),
        )
        self.state.mkdir(parents=True)
        ensure_testmon(self.env)
        outcomes, _ = self.outcomes()
        started = time.perf_counter()
        self.run(
            [
                str(self.env.python),
                "-m",
                "testwatch",
                "run",
                str(self.copy),
                "--db",
                str(self.db),
                "--deps",
                "--",
                *self.env.project.pytest_args,
            ]
        )
        print(f"  testwatch run --deps: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        started = time.perf_counter()
        done = self.run(self.pytest("-q", "--testmon", "-p", "no:randomly"), check_ran=False)
        print(f"  pytest --testmon: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        if done.returncode not in (0, 1):
            # testmon 2.2.0 stops with an INTERNALERROR on jinja2 3.1.6 (a template compiled under
            # a name without an extension): its data then holds the tests run before it.
            note = f"pytest --testmon exited {done.returncode}: {_last_line(done.stdout)}"
            print(f"  note: {note}", file=sys.stderr)
        _save(self.copy / ".testmondata", self.state / "testmondata")
        _save(self.db, self.state / "history-saved")
        stamp.write_text(json.dumps({"key": key, "outcomes": outcomes}), encoding="utf-8")
        return outcomes

    def outcomes(self) -> tuple[dict[str, str], set[str]]:
        """Every test's outcome under plain pytest, and the test files that failed to import."""
        report = self.state / "report.json"
        report.unlink(missing_ok=True)
        self.run(
            self.pytest(
                "-q",
                "-p",
                "no:randomly",
                "-p",
                "no:cacheprovider",
                "--json-report",
                f"--json-report-file={report}",
            ),
            check_ran=False,
        )
        data = json.loads(report.read_text(encoding="utf-8"))
        broken = {c["nodeid"] for c in data.get("collectors", []) if c["outcome"] != "passed"}
        return {test["nodeid"]: test["outcome"] for test in data["tests"]}, broken

    # ----- one mutation

    def measure(self, mutation: Mutation, before: dict[str, str]) -> Outcome:
        path = self.copy / mutation.path
        original = path.read_bytes()
        text = original.decode("utf-8")
        if text.count(mutation.old) != 1:
            raise RuntimeError(
                f"{mutation.label}: the text to replace occurs {text.count(mutation.old)} "
                f"times in {mutation.path}"
            )
        path.write_bytes(text.replace(mutation.old, mutation.new).encode("utf-8"))
        try:
            after, broken = self.outcomes()
            truth = sorted(
                n
                for n in before
                if before[n] != after.get(n, "gone") and (n in after or n.partition("::")[0] in broken)
            )
            watched, everything = self.testwatch_selection()
            testmon = self.testmon_selection()
        finally:
            path.write_bytes(original)
            _save(self.state / "testmondata", self.copy / ".testmondata")
            _save(self.state / "history-saved", self.db)
        return Outcome(
            self.env.project.name,
            mutation.label,
            mutation.kind,
            mutation.breaks,
            truth,
            len(before) if everything else len(watched),
            len(testmon),
            _recall(truth, watched, everything),
            _recall(truth, testmon, False),
            sorted(set(truth) - _covered(truth, watched, everything)),
            sorted(set(truth) - _covered(truth, testmon, False)),
            everything,
        )

    def testwatch_selection(self) -> tuple[set[str], bool]:
        done = self.run(
            [
                str(self.env.python),
                "-m",
                "testwatch",
                "affected",
                str(self.copy),
                "--db",
                str(self.db),
                "--json",
            ],
            check_ran=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"testwatch affected failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        record = json.loads(done.stdout)
        return set(record["selected"]), bool(record["everything"])

    def testmon_selection(self) -> set[str]:
        done = self.run(
            self.pytest("-q", "--testmon", "--collect-only", "-p", "no:randomly"), check_ran=False
        )
        return {line.strip() for line in done.stdout.splitlines() if "::" in line and " " not in line.strip()}


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _save(database: Path, to: Path) -> None:
    """Copy an SQLite file with its write-ahead log, replacing what ``to`` holds."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{to}{suffix}").unlink(missing_ok=True)
        if Path(f"{database}{suffix}").exists():
            shutil.copy2(f"{database}{suffix}", f"{to}{suffix}")


def _covered(truth: list[str], selected: set[str], everything: bool) -> set[str]:
    if everything:
        return set(truth)
    return {n for n in truth if n in selected or n.partition("::")[0] in selected}


def _recall(truth: list[str], selected: set[str], everything: bool) -> float | None:
    if not truth:
        return None
    return len(_covered(truth, selected, everything)) / len(truth)


def _baseline_key(env: ProjectEnv) -> str:
    """Changes with the project and testwatch's sources, but those only the selection reads."""
    digest = hashlib.sha256(f"{_BASELINE_VERSION} {env.project.requirement}".encode())
    for folder in ("testwatch", "collectors"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if str(path.relative_to(REPO)) in _SELECTION_ONLY:
                continue
            digest.update(str(path.relative_to(REPO)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _recall_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def print_table(outcomes: list[Outcome]) -> None:
    rows = [("project", "mutation", "kind", "truth", "testwatch", "testmon", "recall tw", "recall tm")]
    for o in outcomes:
        label = o.label if o.breaks else f"{o.label} [non-breaking]"
        tw = f"{o.testwatch_selected}{' (all)' if o.testwatch_everything else ''}"
        rows.append(
            (
                o.project,
                label,
                o.kind,
                str(len(o.truth)),
                tw,
                str(o.testmon_selected),
                _recall_text(o.testwatch_recall),
                _recall_text(o.testmon_recall),
            )
        )
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows[1:]:
        print("| " + " | ".join(row) + " |")
    measured = [o for o in outcomes if o.testwatch_recall is not None]
    if measured:
        worst = min(measured, key=lambda o: o.testwatch_recall)
        print(f"\nworst testwatch recall: {worst.testwatch_recall:.2f} ({worst.project}: {worst.label})")
        worst_tm = min(measured, key=lambda o: o.testmon_recall)
        print(f"worst testmon recall: {worst_tm.testmon_recall:.2f} ({worst_tm.project}: {worst_tm.label})")
    module_level = [o for o in outcomes if o.kind in MODULE_LEVEL_KINDS]
    if module_level:
        tw = sum(o.testwatch_selected for o in module_level)
        tm = sum(o.testmon_selected for o in module_level)
        print(
            f"module-level mutations ({len(module_level)}): testwatch selected {tw}, testmon {tm}, "
            f"ratio {tw / max(tm, 1):.2f}"
        )
    unbroken = [o for o in outcomes if o.breaks and not o.truth]
    for o in unbroken:
        print(f"note: meant to break tests but none changed outcome: {o.project}: {o.label}")


def catalog_parser(description: str) -> argparse.ArgumentParser:
    """The options of a script that runs the catalog: ``--project``, ``--only``, ``--json``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--project", action="append", choices=CATALOG_PROJECTS,
                        help="only this project (repeatable)")
    parser.add_argument("--only", help="only mutations whose label contains this text")
    parser.add_argument("--json", type=Path, help="also write every outcome (with test ids) here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = catalog_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    outcomes: list[Outcome] = []
    for name in args.project or CATALOG_PROJECTS:
        env = prepare(PROJECTS[name], WORK_ROOT)
        bench = Bench(env)
        print(f"{name}: baseline", file=sys.stderr)
        before = bench.baseline()
        for mutation in MUTATIONS:
            if mutation.project != name or (args.only and args.only not in mutation.label):
                continue
            started = time.perf_counter()
            outcome = bench.measure(mutation, before)
            print(
                f"  {mutation.label}: truth {len(outcome.truth)}, testwatch {outcome.testwatch_selected}, "
                f"testmon {outcome.testmon_selected} ({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
            )
            outcomes.append(outcome)
    print_table(outcomes)
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.exit(main())
