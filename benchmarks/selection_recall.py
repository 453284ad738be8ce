"""Selection benchmark: for each mutation of the sample project, does testwatch select every test
that the mutation makes fail (recall), and how much of the suite does it select? pytest-testmon's
selection on the same edit is shown beside it.

Ground truth is a full pytest run with the mutation applied. testmon runs from its own venv
(default /work/benchvenv-watch, with pytest-testmon installed; --testmon-python to change it).

    python benchmarks/selection_recall.py [--testmon-python PATH]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from sample_shop import MUTATIONS, mutate, write_sample

WORK = Path(__file__).parent / ".work" / "selection"
_FAIL = re.compile(r"^(FAILED|ERROR) (\S+)")


def _pytest(python: str, root: Path, *args: str) -> str:
    out = subprocess.run([python, "-m", "pytest", *args], cwd=root, capture_output=True, text=True)
    return out.stdout + out.stderr


def _collected(python: str, root: Path, *args: str) -> list[str]:
    return [
        line.strip() for line in _pytest(python, root, "--collect-only", "-q", *args).splitlines()
        if "::" in line and not line.startswith(("ERROR", "FAILED"))
    ]


def _expand(entries, all_tests: list[str]) -> set[str]:
    """Node ids, with a file entry standing for every test of that file."""
    result = set()
    for entry in entries:
        result |= {t for t in all_tests if t == entry or t.startswith(f"{entry}::")}
    return result


def _failing(root: Path, all_tests: list[str]) -> set[str]:
    output = _pytest(sys.executable, root, "-q", "-rfE", "-p", "no:cacheprovider")
    return _expand((m[2] for line in output.splitlines() if (m := _FAIL.match(line))), all_tests)


def _testwatch_selection(root: Path, all_tests: list[str]) -> set[str]:
    out = subprocess.run([sys.executable, "-m", "testwatch", "affected", str(root), "--json"],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    return set(all_tests) if result["everything"] else _expand(result["selected"], all_tests)


def _testmon_selection(python: str, root: Path, all_tests: list[str]) -> set[str]:
    output = _pytest(python, root, "--testmon", "--collect-only", "-q")
    entries = [line.strip() for line in output.splitlines() if "::" in line]
    entries += [m[2] for line in output.splitlines() if (m := _FAIL.match(line))]
    return _expand(entries, all_tests)


def measure(name: str, testmon_python: str | None) -> dict:
    root = WORK / re.sub(r"\W+", "-", name)
    shutil.rmtree(root, ignore_errors=True)
    write_sample(root)
    all_tests = _collected(sys.executable, root, "-p", "no:cacheprovider")
    subprocess.run([sys.executable, "-m", "testwatch", "run", str(root), "--affected"],
                   capture_output=True, check=False)
    if testmon_python:
        _pytest(testmon_python, root, "--testmon", "-q")
    mutate(root, name)
    failing = _failing(root, all_tests)
    row = {"mutation": name, "kind": MUTATIONS[name][0], "tests": len(all_tests), "failing": len(failing)}
    for tool, selected in [
        ("testwatch", _testwatch_selection(root, all_tests)),
        ("testmon", _testmon_selection(testmon_python, root, all_tests) if testmon_python else None),
    ]:
        if selected is None:
            continue
        row[f"{tool}_recall"] = len(failing & selected) / len(failing) if failing else 1.0
        row[f"{tool}_fraction"] = len(selected) / len(all_tests)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--testmon-python", default="/work/benchvenv-watch/bin/python")
    args = parser.parse_args()
    testmon = args.testmon_python if Path(args.testmon_python).exists() else None
    if testmon is None:
        print(f"note: {args.testmon_python} not found; testmon columns left out")
    print(f"{'mutation':<24} {'failing':>7}  {'tw recall':>9} {'tw sel':>7}  {'tm recall':>9} {'tm sel':>7}")
    rows = [measure(name, testmon) for name in MUTATIONS]
    for row in rows:
        tm = (f"{row['testmon_recall']:>9.0%} {row['testmon_fraction']:>7.0%}"
              if "testmon_recall" in row else f"{'-':>9} {'-':>7}")
        print(f"{row['mutation']:<24} {row['failing']:>3}/{row['tests']:<3}  "
              f"{row['testwatch_recall']:>9.0%} {row['testwatch_fraction']:>7.0%}  {tm}")
    worst = min(row["testwatch_recall"] for row in rows)
    body = [r for r in rows if r["kind"] == "function-body" and "testmon_fraction" in r]
    print(f"\ntestwatch recall: minimum {worst:.0%} over {len(rows)} mutations")
    if body:
        tw = sum(r["testwatch_fraction"] for r in body) / len(body)
        tm = sum(r["testmon_fraction"] for r in body) / len(body)
        print(f"function-body edits: testwatch selects {tw:.1%} of the suite on average, testmon {tm:.1%}")


if __name__ == "__main__":
    main()
