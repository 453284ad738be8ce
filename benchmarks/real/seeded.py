"""Seeded selection on real code: record on one checkout, seed a second one in another folder, and
compare both selections with each other and with the ground truth on the mutations of
``mutation_catalog.py``.

Per project (copies of the proving ground's unpacked sdist, run in its venv from
``real_setup.py``): ``testwatch run --deps --bundle`` on the recording copy; ``testwatch seed`` on a
second copy under another path prefix, with a history of its own and no run there. Then per
mutation, applied to both copies: the ground truth as ``mutations.py`` has it (the tests whose
plain pytest outcome changes, run in the recording copy), ``testwatch affected --json`` in each
copy; the seeded copy's recall, and whether its selection is the recording copy's, test for test.

    python benchmarks/real/seeded.py [--project NAME ...] [--only TEXT] [--json OUT]
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from mutation_catalog import MUTATIONS, Mutation
from mutations import CATALOG_PROJECTS, WORK_ROOT, Bench, _covered, _recall, _recall_text, catalog_parser
from real_manifest import PROJECTS
from real_setup import ProjectEnv, prepare

SEEDED_ROOT = WORK_ROOT / "seeded"
_COPY_IGNORED = ("__pycache__", ".pytest_cache", ".testmondata*", ".testwatch*", ".hypothesis")


@dataclass(frozen=True)
class SeededOutcome:
    """One mutation's figures on both copies."""

    project: str
    label: str
    kind: str
    truth: list[str]
    recorded_selected: int  # every known test when it selects everything
    seeded_selected: int
    identical: bool  # the same tests, in the same order, for the same reasons
    seeded_recall: float | None  # None: no test changed outcome
    seeded_missed: list[str]
    seeded_everything: bool


class Checkout(Bench):
    """One copy of the project with a history of its own, outside the copy."""

    def __init__(self, env: ProjectEnv, copy: Path) -> None:
        super().__init__(env)
        self.copy = copy
        self.state = copy.parent / f"{copy.name}.state"
        self.db = self.state / "history.db"
        import_root = copy / "src" if (env.root / "src").is_dir() else copy
        self.child_env["PYTHONPATH"] = str(import_root)

    def fresh(self) -> None:
        """A new copy of the unpacked sdist, and no history."""
        shutil.rmtree(self.copy, ignore_errors=True)
        shutil.rmtree(self.state, ignore_errors=True)
        shutil.copytree(self.env.root, self.copy, ignore=shutil.ignore_patterns(*_COPY_IGNORED))
        self.state.mkdir(parents=True)

    def testwatch(self, *args: str) -> str:
        done = self.run([str(self.env.python), "-m", "testwatch", *args], check_ran=False)
        if done.returncode not in (0, 1):
            raise RuntimeError(f"testwatch {args[0]} exited {done.returncode}:\n{done.stdout[-2000:]}"
                               f"{done.stderr[-2000:]}")
        return done.stdout

    def selection(self) -> dict:
        return json.loads(self.testwatch("affected", str(self.copy), "--db", str(self.db), "--json"))


def _timed(what: str, action):
    started = time.perf_counter()
    result = action()
    print(f"  {what}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return result


def measure_project(env: ProjectEnv, only: str | None) -> tuple[list[SeededOutcome], dict]:
    """Record, bundle, seed, then every mutation of the project on both copies."""
    name = env.project.name
    recorded = Checkout(env, SEEDED_ROOT / name / "ci" / env.root.name)
    seeded = Checkout(env, SEEDED_ROOT / name / "laptop" / "elsewhere" / "deeper" / env.root.name)
    bundle = SEEDED_ROOT / name / "selection.twb"
    bundle.unlink(missing_ok=True)
    recorded.fresh()
    before, _ = _timed("plain pytest (baseline outcomes)", recorded.outcomes)
    wrote = _timed("testwatch run --deps --bundle", lambda: recorded.testwatch(
        "run", str(recorded.copy), "--db", str(recorded.db), "--deps", "--bundle", str(bundle),
        "--", *env.project.pytest_args))
    print(f"  {wrote.strip().splitlines()[-1]}", file=sys.stderr)
    seeded.fresh()
    started = time.perf_counter()
    said = seeded.testwatch("seed", str(bundle), str(seeded.copy), "--db", str(seeded.db))
    seed_s = time.perf_counter() - started
    print(f"  seed: {seed_s:.1f} s: {said.strip()}", file=sys.stderr)
    unchanged = (recorded.selection(), seeded.selection())
    summary = {
        "project": name, "tests": len(before), "bundle_bytes": bundle.stat().st_size,
        "seed_s": round(seed_s, 2),
        "unchanged_identical": _same(*unchanged), "unchanged_selected": len(unchanged[1]["selected"]),
    }
    outcomes = []
    for mutation in MUTATIONS:
        if mutation.project == name and not (only and only not in mutation.label):
            started = time.perf_counter()
            outcome = measure_mutation(mutation, recorded, seeded, before)
            print(f"  {mutation.label}: truth {len(outcome.truth)}, recorded {outcome.recorded_selected}, "
                  f"seeded {outcome.seeded_selected}, identical {outcome.identical} "
                  f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
            outcomes.append(outcome)
    return outcomes, summary


def measure_mutation(mutation: Mutation, recorded: Checkout, seeded: Checkout,
                     before: dict[str, str]) -> SeededOutcome:
    originals = {}
    for checkout in (recorded, seeded):
        path = checkout.copy / mutation.path
        originals[path] = path.read_bytes()
        text = originals[path].decode("utf-8")
        if text.count(mutation.old) != 1:
            raise RuntimeError(f"{mutation.label}: the text to replace occurs {text.count(mutation.old)} "
                               f"times in {mutation.path}")
        path.write_bytes(text.replace(mutation.old, mutation.new).encode("utf-8"))
    try:
        after, broken = recorded.outcomes()
        truth = sorted(
            n for n in before
            if before[n] != after.get(n, "gone") and (n in after or n.partition("::")[0] in broken)
        )
        in_recorded, in_seeded = recorded.selection(), seeded.selection()
    finally:
        for path, original in originals.items():
            path.write_bytes(original)
    known = len(before)
    everything = bool(in_seeded["everything"])
    selected = set(in_seeded["selected"])
    return SeededOutcome(
        recorded.env.project.name, mutation.label, mutation.kind, truth,
        known if in_recorded["everything"] else len(in_recorded["selected"]),
        known if everything else len(selected),
        _same(in_recorded, in_seeded),
        _recall(truth, selected, everything),
        sorted(set(truth) - _covered(truth, selected, everything)),
        everything,
    )


def _same(first: dict, second: dict) -> bool:
    keys = ("selected", "reasons", "everything", "everything_reason", "total_known")
    return all(first[key] == second[key] for key in keys)


def print_table(outcomes: list[SeededOutcome], summaries: list[dict]) -> None:
    print("| project | mutation | kind | truth | recording copy | seeded copy | identical "
          "| recall (seeded) |")
    print("|---|---|---|---|---|---|---|---|")
    for o in outcomes:
        seeded = f"{o.seeded_selected}{' (all)' if o.seeded_everything else ''}"
        label = o.label.replace("|", "\\|")  # a table cell
        print(f"| {o.project} | {label} | {o.kind} | {len(o.truth)} | {o.recorded_selected} | {seeded} | "
              f"{'yes' if o.identical else 'NO'} | {_recall_text(o.seeded_recall)} |")
    print()
    for s in summaries:
        print(f"{s['project']}: {s['tests']} tests, bundle {s['bundle_bytes'] // 1024} KiB, "
              f"seed {s['seed_s']} s, "
              f"no-change selection {s['unchanged_selected']} tests "
              f"({'identical' if s['unchanged_identical'] else 'DIFFERENT'})")
    measured = [o.seeded_recall for o in outcomes if o.seeded_recall is not None]
    identical = sum(o.identical for o in outcomes)
    print(f"identical selections: {identical} of {len(outcomes)}; worst seeded recall: "
          f"{_recall_text(min(measured) if measured else None)}")


def main(argv: list[str] | None = None) -> int:
    args = catalog_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    outcomes: list[SeededOutcome] = []
    summaries: list[dict] = []
    for name in args.project or CATALOG_PROJECTS:
        print(f"{name}:", file=sys.stderr)
        found, summary = measure_project(prepare(PROJECTS[name], WORK_ROOT), args.only)
        outcomes += found
        summaries.append(summary)
    print_table(outcomes, summaries)
    if args.json:
        args.json.write_text(json.dumps({"summaries": summaries, "outcomes": [asdict(o) for o in outcomes]},
                                        indent=1), encoding="utf-8")
    failed = [o for o in outcomes if not o.identical or (o.seeded_recall is not None and o.seeded_recall < 1)]
    return 1 if failed or not all(s["unchanged_identical"] for s in summaries) else 0


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.exit(main())
