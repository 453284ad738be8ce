"""One command after an edit, on real projects: ``testwatch run --affected`` beside
``pytest --testmon`` and plain pytest of the whole suite, from the command's start to its exit.

    python benchmarks/real/affected_oneshot.py [--project NAME ...] [--rounds 5] [--only TEXT ...]

What a script or a developer without the app runs: each tool starts from nothing (no watch
process, no warm start), with its recording of the unedited code (``testwatch run --deps`` and
``pytest --testmon``, in two copies of the proving ground's project as in ``edit_to_result.py``).
Per round and edit, in an order that rotates each round: the edit is saved in the tool's copy, the
command runs to its exit and is timed, the file is restored; then testwatch's recording is brought
back to the unedited code (an untimed ``run --affected``) and testmon's data file is restored.
Round 0 is a warm-up and is not counted. Prints medians per edit and the ratios to testmon and to
plain pytest, with the load average before and after.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from edit_to_result import Project, cases_of, edit_arguments, load_average
from mutation_catalog import Mutation
from mutations import WORK_ROOT, _save
from real_manifest import PROJECTS, TESTMON
from real_setup import prepare

TOOLS = ("testwatch", "testmon", "pytest")
TIMEOUT_S = 600.0


def run_affected(project: Project, python: str | None = None) -> list[str]:
    env = project.env
    return [
        python or str(env.python), "-m", "testwatch", "run", str(project.watched), "--affected",
        "--", *env.project.pytest_args,
    ]


def timed(project: Project, tool: str, mutation: Mutation, base: str | None) -> tuple[float, str]:
    """Seconds from the command's start to its exit after ``mutation``, and its last line."""
    copy = project.batch if tool in ("testmon", "pytest") else project.watched
    command = {
        "testwatch": run_affected(project),
        "base": run_affected(project, base),
        "testmon": project.pytest("-q", "--testmon"),
        "pytest": project.pytest("-q"),
    }[tool]
    path = copy / mutation.path
    original = path.read_bytes()
    path.write_bytes(original.decode("utf-8").replace(mutation.old, mutation.new, 1).encode("utf-8"))
    try:
        started = time.perf_counter()
        done = subprocess.run(
            command, cwd=copy, env=project.child_env(copy), capture_output=True, text=True,
            timeout=TIMEOUT_S,
        )
        elapsed = time.perf_counter() - started
    finally:
        path.write_bytes(original)
    if tool in ("testwatch", "base"):  # the recording again of the unedited code, untimed
        subprocess.run(
            command, cwd=copy, env=project.child_env(copy), capture_output=True, timeout=TIMEOUT_S
        )
    elif tool == "testmon":
        _save(project.testmon_data, copy / ".testmondata")
    return elapsed, (done.stdout.strip().splitlines() or ["(no output)"])[-1]


def run_project(
    name: str, rounds: int, only: list[str] | None, base: str | None
) -> dict[Mutation, dict[str, list[float]]]:
    project = Project(prepare(PROJECTS[name], WORK_ROOT))
    mutations = [case.mutation for case in cases_of(name, only)]
    print(f"{name}: recording baselines", file=sys.stderr)
    project.prepare()
    tools = (*TOOLS, "base") if base else TOOLS
    times: dict[Mutation, dict[str, list[float]]] = {m: {tool: [] for tool in tools} for m in mutations}
    for round_number in range(rounds + 1):
        for index, mutation in enumerate(mutations):
            shift = (round_number + index) % len(tools)
            for tool in tools[shift:] + tools[:shift]:
                elapsed, last = timed(project, tool, mutation, base)
                if round_number:
                    times[mutation][tool].append(elapsed)
                print(f"  round {round_number} {mutation.label}: {tool} {elapsed:.2f} s ({last})",
                      file=sys.stderr)
    return times


def print_table(name: str, times: dict[Mutation, dict[str, list[float]]]) -> None:
    with_base = any("base" in by_tool for by_tool in times.values())
    print(f"\n{name}: medians in seconds from the command's start to its exit")
    print("| edit | kind | testwatch | testmon | pytest (all) | tw/testmon | tw/pytest |"
          + (" base | tw/base |" if with_base else ""))
    print("|---|---|---|---|---|---|---|" + ("---|---|" if with_base else ""))
    for mutation, by_tool in times.items():
        median = {tool: statistics.median(values) for tool, values in by_tool.items()}
        base = f" {median['base']:.2f} | {median['testwatch'] / median['base']:.2f} |" if with_base else ""
        print(
            f"| {mutation.label} | {mutation.kind} | {median['testwatch']:.2f} | "
            f"{median['testmon']:.2f} | {median['pytest']:.2f} | "
            f"{median['testwatch'] / median['testmon']:.2f} | "
            f"{median['testwatch'] / median['pytest']:.2f} |{base}"
        )


def main(argv: list[str] | None = None) -> int:
    parser, names = edit_arguments(__doc__.split("\n\n")[0])
    parser.add_argument(
        "--base", metavar="PYTHON",
        help="also time run --affected with this interpreter's testwatch (e.g. a copy of the "
        "project's venv with another commit installed), interleaved with the rest",
    )
    args = parser.parse_args(argv)
    print(f"load average before: {load_average()}; {TESTMON}; Python {sys.version.split()[0]}")
    results = {name: run_project(name, args.rounds, args.only, args.base) for name in args.project or names}
    for name, times in results.items():
        print_table(name, times)
    print(f"\nload average after: {load_average()}")
    return 0


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.exit(main())
