"""A selected run in two pytest sessions: the files of the first-ranked tests first, then the rest.

pytest collects every file of a run before it runs its first test, so one session over the whole
selection shows nothing until all of its files are collected. The selection is ranked (last
failures, then the tests that touch the change most directly, then the fastest), so the tests
most likely to fail are the first few: a first session collects only the files holding the
``FIRST_RANKS`` first-ranked tests and runs their selected tests (in rank order, so a likely
failure in the second file is not queued behind every test of the first), and a second one runs
the selected tests of the other files. Each file is collected once and each test runs once; the
engine shows and records both sessions as one run.

The second session's pytest starts as soon as the first has collected and waits, collected,
until the first ends (``next_session``): its start overlaps the first session's tests when a
core is free for it. On a busy machine it is not (itsdangerous, 289 selected tests, split from
100 tests: no earlier end at load 6-9 on 2 cores), so a run is split only when the other files
hold at least ``MIN_REST_TESTS`` selected tests, enough that collecting them first costs more
than a pytest start. Nor is it
split when its pytest arguments make one session behave differently from two: stopping at the
first failures (``-x``, ``--maxfail``, ``--stepwise``), pytest's own choice or order of tests
(``--lf``, ``--ff``, ``--nf``), pytest-xdist's workers (started per session) or ``--pdb``,
whether on testwatch's command line or in the project's ``addopts`` (``testwatch.config.pytest_ini``).
"""

from __future__ import annotations

from testwatch.model.results import nodeid_file

_WHOLE_RUN_OPTIONS = (
    "--exitfirst",
    "--maxfail",
    "--sw",
    "--stepwise",
    "--lf",
    "--last-failed",
    "--ff",
    "--failed-first",
    "--nf",
    "--new-first",
    "--numprocesses",
    "--dist",
    "--pdb",
    "--trace",
)
MIN_REST_TESTS = 300
FIRST_RANKS = 5
_VALUE_FLAGS = set("kmpcorWn")  # short options whose value may follow in the same word (-kfoo)


def split_selection(select: list[str], pytest_args: list[str]) -> list[list[str]]:
    """The selection in the sessions that run it, in order: the selected tests of the files of
    the ``FIRST_RANKS`` first selected tests, then the rest (one session when fewer than
    ``MIN_REST_TESTS`` are in other files or the arguments need one session)."""
    if not select or _needs_one_session(pytest_args):
        return [select]
    first_files = {nodeid_file(nodeid) for nodeid in select[:FIRST_RANKS]}
    first = [nodeid for nodeid in select if nodeid_file(nodeid) in first_files]
    rest = [nodeid for nodeid in select if nodeid_file(nodeid) not in first_files]
    return [first, rest] if len(rest) >= MIN_REST_TESTS else [select]


def _needs_one_session(pytest_args: list[str]) -> bool:
    return any(_acts_on_whole_run(arg) for arg in pytest_args)


def _acts_on_whole_run(arg: str) -> bool:
    if arg.startswith("--"):
        return arg.split("=", 1)[0] in _WHOLE_RUN_OPTIONS
    if arg in ("xdist", "xdist.plugin", "-pxdist"):  # -p xdist
        return True
    return arg.startswith("-") and len(arg) > 1 and _short_flags_need_one_session(arg[1:])


def _short_flags_need_one_session(flags: str) -> bool:
    """``-x`` or ``-n`` among short flags written together (``-vx``, ``-n2``)."""
    for flag in flags:
        if flag in "xn":
            return True
        if flag in _VALUE_FLAGS:
            return False
    return False
