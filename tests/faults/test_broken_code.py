"""Scenarios 4 and 5: broken test files, conftest.py and source modules; nothing to run; a session
that pytest itself stops early. Each gives a clear message with file and line, and is recorded."""

from __future__ import annotations


def test_syntax_and_import_errors_name_file_and_line_and_others_still_run(
    make_project, cli, history_of, outcomes
):
    root = make_project({
        "shop.py": "import missing_dependency_xyz\n",
        "tests/test_ok.py": "def test_ok():\n    pass\n",
        "tests/test_syntax.py": "def test_broken(:\n    pass\n",
        "tests/test_imports.py": "import shop\n\ndef test_uses_shop():\n    pass\n",
    })
    done = cli("run", str(root))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "tests/test_syntax.py:1: SyntaxError: invalid syntax" in done.stdout
    assert "shop.py:1: ModuleNotFoundError: No module named 'missing_dependency_xyz'" in done.stdout
    assert outcomes(history_of(root)) == {
        "tests/test_ok.py::test_ok": "passed",
        "tests/test_syntax.py": "error",
        "tests/test_imports.py": "error",
    }

    # Fixing the files recovers on the next run.
    (root / "tests/test_syntax.py").write_text("def test_broken():\n    pass\n")
    (root / "shop.py").write_text("PRICE = 1\n")
    again = cli("run", str(root))
    assert again.returncode == 0, again.stdout
    assert set(outcomes(history_of(root)).values()) == {"passed"}


def test_a_fixed_collection_error_is_over_and_a_deleted_file_is_not_run_again(
    make_project, cli, history_of, query
):
    root = make_project({
        "tests/test_ok.py": "def test_ok():\n    assert False\n",
        "tests/test_syntax.py": "def test_broken(:\n    pass\n",
    })
    assert cli("run", str(root)).returncode == 1

    def latest() -> dict[str, str]:
        return dict(query(history_of(root), "select nodeid, outcome from latest_results"))

    assert latest() == {"tests/test_ok.py::test_ok": "failed", "tests/test_syntax.py": "error"}
    (root / "tests/test_syntax.py").write_text("def test_broken():\n    pass\n")
    assert cli("run", str(root), "--failed").returncode == 1  # the file runs again, and collects
    # The file's error is over: the app and the selection no longer count it as failing.
    assert latest() == {"tests/test_ok.py::test_ok": "failed", "tests/test_syntax.py::test_broken": "passed"}

    (root / "tests/test_syntax.py").write_text("def test_broken(:\n    pass\n")
    assert cli("run", str(root)).returncode == 1
    (root / "tests/test_syntax.py").unlink()
    again = cli("run", str(root), "--failed")  # pytest would refuse the path that is gone
    assert again.returncode == 1 and "tests/test_ok.py::test_ok" in again.stdout, again.stdout


def test_broken_conftest_is_a_clear_error_kept_in_the_history(make_project, cli, history_of, query):
    root = make_project({
        "tests/conftest.py": "import pytest\n\nvalue = = 1\n",
        "tests/test_ok.py": "def test_ok():\n    pass\n",
    })
    done = cli("run", str(root))
    assert done.returncode == 4  # pytest's usage error, as pytest itself would exit
    assert "Traceback" not in done.stderr
    assert "tests/conftest.py" in done.stdout and "line 3" in done.stdout
    assert "SyntaxError" in done.stdout
    [(status, exit_status, message)] = query(
        history_of(root), "select status, exit_status, message from runs"
    )
    assert (status, exit_status) == ("finished", 4)
    assert "conftest.py" in message and "SyntaxError" in message


def test_no_tests_collected_is_calm_and_exits_5(make_project, cli):
    root = make_project({"src/app.py": "VALUE = 1\n", "tests/test_one.py": "def test_one():\n    pass\n"})
    empty = make_project({"README.md": "nothing here\n"}, name="empty")
    for args in ([str(empty)], [str(root), "--", "-k", "no_such_test"]):
        done = cli("run", *args)
        assert done.returncode == 5, done.stdout
        assert "no tests ran" in done.stdout
        assert "error" not in done.stdout.lower() and done.stderr == ""


def test_failed_with_nothing_failed_selects_nothing(make_project, cli):
    root = make_project({"tests/test_one.py": "def test_one():\n    pass\n"})
    assert cli("run", str(root)).returncode == 0
    done = cli("run", str(root), "--failed")
    assert done.returncode == 5
    assert "no tests selected" in done.stdout and done.stderr == ""


def test_pytest_exit_in_a_test_is_reported_not_hidden(make_project, cli, history_of, query, outcomes):
    root = make_project({"tests/test_stop.py": """
        import pytest

        def test_first():
            pass

        def test_stops_session():
            pytest.exit("stopping here")

        def test_never_reached():
            pass
    """})
    done = cli("run", str(root))
    assert done.returncode == 2  # interrupted, as pytest reports it
    assert "1 tests were not run" in done.stdout
    assert outcomes(history_of(root)) == {
        "tests/test_stop.py::test_first": "passed",
        "tests/test_stop.py::test_stops_session": "crashed",
    }
    [(message,)] = query(history_of(root), "select message from runs")
    assert "stopping here" in message
