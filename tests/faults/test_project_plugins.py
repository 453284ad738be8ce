"""Scenario 18: the project's own pytest setup gets in the way: a conftest plugin printing to stdout
while importing and collecting, ``-p no:cacheprovider``, ``-s``, ``-x``, a changed rootdir, and a
crash that forces a restart under that rootdir. Every result is still recorded."""

from __future__ import annotations

PROJECT = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        addopts = "-q -p no:cacheprovider"

        [tool.testwatch]
        pytest_args = ["--rootdir=tests", "-s"]
    """,
    "tests/conftest.py": """
        print("conftest import noise [red]")

        def pytest_collection_modifyitems(items):
            print("collection noise", len(items))

        def pytest_runtest_logreport(report):
            print("report noise", report.nodeid)
    """,
    "tests/test_mixed.py": """
        import os

        def test_prints():
            print("test output with -s")

        def test_dies():
            os._exit(3)

        def test_after_restart():
            pass
    """,
}


def test_noisy_plugins_and_a_changed_rootdir_still_record_every_result(
    make_project, cli, history_of, outcomes
):
    root = make_project(PROJECT)
    done = cli("run", str(root))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    # pytest's node ids are relative to its rootdir (tests/), testwatch's to the project folder
    # (as `pytest NODEID` takes them there); the restart still finds the file.
    assert outcomes(history_of(root)) == {
        "tests/test_mixed.py::test_prints": "passed",
        "tests/test_mixed.py::test_dies": "crashed",
        "tests/test_mixed.py::test_after_restart": "passed",
    }
    assert "did not run" not in done.stdout


def test_exitfirst_says_which_tests_did_not_run(make_project, cli, history_of, outcomes):
    root = make_project({"tests/test_x.py": """
        def test_fails():
            assert False

        def test_never_reached():
            pass
    """})
    done = cli("run", str(root), "--", "-x")
    assert done.returncode == 1
    assert "1 collected tests did not run, tests/test_x.py::test_never_reached first" in done.stdout
    assert outcomes(history_of(root)) == {"tests/test_x.py::test_fails": "failed"}
