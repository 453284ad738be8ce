"""A selected run in two pytest sessions: the first-ranked test's file first, then the rest.

pytest collects every file of a run before it runs its first test, so one session over the whole
selection shows nothing until all of its files are collected. The selection is ranked (last
failures, then the tests that touch the change most directly, then the fastest), so the tests
most likely to fail are the first-ranked test and its neighbours: a first session collects only
that test's file and runs its selected tests, and a second one runs the selected tests of the
other files. Each file is collected once and each test runs once; the engine shows and records
both sessions as one run.

The second session costs a second pytest start (and its recorder's start) on the way to the end
of the run, about what collecting a few hundred tests costs, so a run is split only when the
other files hold at least ``MIN_REST_TESTS`` selected tests (on marshmallow, a selection of 20
tests in two files ended 1 s later in two sessions, for no earlier failure). Nor is it split
when its pytest arguments make one session behave differently from two: stopping at the first
failures (``-x``, ``--maxfail``, ``--stepwise``), pytest's own choice or order of tests
(``--lf``, ``--ff``, ``--nf``), pytest-xdist's workers (started per session) or ``--pdb``,
whether on testwatch's command line or in the project's ``addopts`` (``ini_addopts``).
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
_VALUE_FLAGS = set("kmpcorWn")  # short options whose value may follow in the same word (-kfoo)


def split_selection(select: list[str], pytest_args: list[str]) -> list[list[str]]:
    """The selection in the sessions that run it, in order: the selected tests of the first
    selected test's file, then the rest (one session when fewer than ``MIN_REST_TESTS`` are in
    other files or the arguments need one session)."""
    if not select or _needs_one_session(pytest_args):
        return [select]
    first_file = nodeid_file(select[0])
    first = [nodeid for nodeid in select if nodeid_file(nodeid) == first_file]
    rest = [nodeid for nodeid in select if nodeid_file(nodeid) != first_file]
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
