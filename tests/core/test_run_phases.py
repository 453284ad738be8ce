"""Which sessions a selected run is split into (``testwatch.run.run_phases``), without pytest."""

from __future__ import annotations

import pytest

from testwatch.run import run_phases
from testwatch.run.run_phases import split_selection

RANKED = ["tests/a.py::t1", "tests/b.py::t2", "tests/a.py::t3", "tests/c.py::t4"]


@pytest.fixture(autouse=True)
def small_rest(monkeypatch):
    monkeypatch.setattr(run_phases, "MIN_REST_TESTS", 2)
    monkeypatch.setattr(run_phases, "FIRST_RANKS", 1)


def test_the_first_ranked_tests_file_first_then_the_rest_in_rank_order():
    assert split_selection(RANKED, ["-q", "-k", "x or y"]) == [
        ["tests/a.py::t1", "tests/a.py::t3"],
        ["tests/b.py::t2", "tests/c.py::t4"],
    ]


def test_the_files_of_the_first_ranks_go_first_with_all_their_tests_in_rank_order(monkeypatch):
    monkeypatch.setattr(run_phases, "FIRST_RANKS", 2)
    ranked = [*RANKED, "tests/d.py::t5", "tests/a.py::t6"]
    assert split_selection(ranked, []) == [
        ["tests/a.py::t1", "tests/b.py::t2", "tests/a.py::t3", "tests/a.py::t6"],
        ["tests/c.py::t4", "tests/d.py::t5"],
    ]


def test_a_selection_in_one_file_or_with_few_tests_elsewhere_is_one_session():
    assert split_selection(["a.py::x", "a.py::y"], []) == [["a.py::x", "a.py::y"]]
    assert split_selection([], []) == [[]]
    assert split_selection(["a.py::x", "a.py::y", "b.py::z"], []) == [["a.py::x", "a.py::y", "b.py::z"]]


@pytest.mark.parametrize(
    "args",
    [
        ["-x"],
        ["-vx"],
        ["--exitfirst"],
        ["--maxfail=2"],
        ["--maxfail", "2"],
        ["--sw"],
        ["--lf"],
        ["--ff"],
        ["-n", "2"],
        ["-n2"],
        ["--numprocesses=2"],
        ["-p", "xdist"],
        ["--pdb"],
    ],
)
def test_arguments_that_act_on_the_whole_run_keep_one_session(args):
    assert split_selection(RANKED, args) == [RANKED]


@pytest.mark.parametrize("args", [["-kx"], ["-k", "x"], ["-m", "not slow"], ["-pno:randomly"], ["-v"]])
def test_other_arguments_split(args):
    assert len(split_selection(RANKED, args)) == 2
