"""Every pytest outcome through the real CLI, a real pytest child and a real history file."""

from __future__ import annotations

import json
import re

import pytest

PROJECT = {
    "tests/test_kinds.py": """
        import pytest

        @pytest.fixture
        def broken():
            raise RuntimeError("fixture exploded")

        def test_pass():
            print("hello from a passing test")

        def test_fail():
            assert 1 + 1 == 3

        def test_error(broken):
            pass

        def test_skip():
            pytest.skip("not today")

        @pytest.mark.xfail(reason="known bug")
        def test_xfail():
            assert False

        @pytest.mark.xfail(reason="fixed already")
        def test_xpass():
            pass
    """,
    "tests/test_broken_import.py": """
        import no_such_module_anywhere

        def test_never_collected():
            pass
    """,
    "tests/test_other.py": """
        def test_other_file_still_runs():
            pass
    """,
    "tests/test_needs_extra.py": """
        import pytest

        pytest.importorskip("no_such_extra_anywhere")

        def test_never_run():
            pass
    """,
}

EXPECTED = {
    "tests/test_kinds.py::test_pass": "passed",
    "tests/test_kinds.py::test_fail": "failed",
    "tests/test_kinds.py::test_error": "error",
    "tests/test_kinds.py::test_skip": "skipped",
    "tests/test_kinds.py::test_xfail": "xfailed",
    "tests/test_kinds.py::test_xpass": "xpassed",
    "tests/test_other.py::test_other_file_still_runs": "passed",
    "tests/test_broken_import.py": "error",
    "tests/test_needs_extra.py": "skipped",  # a whole file skipped: pytest counts it once
}


def test_every_outcome_is_printed_recorded_and_exits_1(make_project, cli, tw):
    root = make_project(PROJECT)
    done = cli("run", str(root))
    assert done.returncode == 1, done.stdout + done.stderr
    for nodeid, outcome in EXPECTED.items():
        row = tw.newest_results(root)[nodeid]
        assert row["outcome"] == outcome, nodeid
        assert row["run_id"] == 1
    for label, nodeid in [("PASS", "test_pass"), ("FAIL", "test_fail"), ("SKIP", "test_skip"),
                          ("XFAIL", "test_xfail"), ("XPASS", "test_xpass")]:
        assert any(line.startswith(label) and line.endswith(nodeid) for line in done.stdout.splitlines())
    assert "ERROR   collecting tests/test_broken_import.py" in done.stdout
    assert "assert (1 + 1) == 3" in done.stdout  # the failure's traceback follows the results
    results = tw.newest_results(root)
    assert "No module named 'no_such_module_anywhere'" in results["tests/test_broken_import.py"]["longrepr"]
    assert "fixture exploded" in results["tests/test_kinds.py::test_error"]["longrepr"]
    assert "no_such_extra_anywhere" in results["tests/test_needs_extra.py"]["longrepr"]
    assert results["tests/test_kinds.py::test_pass"]["stdout"] == "hello from a passing test\n"
    passed = results["tests/test_kinds.py::test_pass"]
    assert passed["setup_outcome"] == passed["call_outcome"] == passed["teardown_outcome"] == "passed"
    assert passed["duration_s"] >= passed["call_s"] >= 0
    (run,) = tw.query(tw.history_db(root), "select * from runs")
    assert (run["passed"], run["failed"], run["error"], run["skipped"]) == (2, 1, 2, 2)
    assert (run["xfailed"], run["xpassed"], run["exit_status"], run["status"]) == (1, 1, 1, "finished")


def test_json_events_are_one_object_per_line(make_project, cli):
    root = make_project(PROJECT)
    done = cli("run", str(root), "--json")
    events = [json.loads(line) for line in done.stdout.splitlines()]
    # A notice may come first: "removed N temporary folders of testwatch processes that were
    # killed" when a test running beside this one killed its testwatch.
    kinds = [event["event"] for event in events if event["event"] != "EngineNotice"]
    assert kinds[0] == "RunStarted" and kinds[-1] == "RunFinished"
    finished = {e["result"]["nodeid"]: e["result"]["outcome"] for e in events if e["event"] == "TestFinished"}
    assert finished == EXPECTED
    assert events[-1]["exit_status"] == done.returncode == 1
    assert events[-1]["counts"]["xpassed"] == 1


def test_failed_reruns_only_what_failed_last_time(make_project, cli, tw):
    root = make_project(PROJECT)
    cli("run", str(root))
    (root / "tests" / "test_broken_import.py").write_text("def test_now_fine():\n    pass\n")
    again = cli("run", str(root), "--failed")
    rerun = tw.newest_results(root)
    assert set(rerun) == {"tests/test_kinds.py::test_fail", "tests/test_kinds.py::test_error",
                          "tests/test_broken_import.py::test_now_fine"}
    assert rerun["tests/test_broken_import.py::test_now_fine"]["outcome"] == "passed"
    assert again.returncode == 1
    (run,) = tw.query(tw.history_db(root), "select trigger, selected from runs where id = 2")
    assert tuple(run) == ("failed", 3)


def test_all_passing_exits_0(make_project, cli):
    root = make_project({"tests/test_ok.py": "def test_ok():\n    pass\n"})
    done = cli("run", str(root))
    assert done.returncode == 0, done.stdout
    assert "1 passed" in done.stdout


SUBTESTS = {
    "tests/test_subtests.py": """
        import unittest

        def test_fixture_subtests(subtests):
            for i in range(3):
                with subtests.test(msg="case", i=i):
                    assert i != 1

        def test_all_subtests_pass(subtests):
            for i in range(50):
                with subtests.test(i=i):
                    assert i >= 0

        def test_many_subtests_fail(subtests):
            for i in range(30):
                with subtests.test(i=i):
                    assert i < 0

        class Cases(unittest.TestCase):
            def test_subtest(self):
                for i in range(3):
                    with self.subTest(i=i):
                        self.assertNotEqual(i, 2)
    """,
}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "pytest-xdist"])
def test_a_failed_subtest_fails_its_test_even_when_its_own_call_passed(
    make_project, cli, tw, workers
):
    # pytest 9 passes a unittest test whose subTest failed and reports the subtest apart
    # (SUBFAILED), exiting 1: testwatch showed it green and "run failed" skipped it.
    root = make_project(SUBTESTS)
    done = cli("run", str(root), "--", *workers)
    assert done.returncode == 1, done.stdout + done.stderr
    results = tw.newest_results(root)
    assert {nodeid.split("::", 1)[1]: row["outcome"] for nodeid, row in results.items()} == {
        "test_fixture_subtests": "failed", "test_all_subtests_pass": "passed",
        "Cases::test_subtest": "failed", "test_many_subtests_fail": "failed",
    }
    unittest_case = results["tests/test_subtests.py::Cases::test_subtest"]
    # Named as pytest names it: (i=2), or (i='2') from a pytest-xdist worker.
    assert re.match(r"\[subtest \(i='?2'?\)\]\n", unittest_case["longrepr"])
    assert "AssertionError: 2 == 2" in unittest_case["longrepr"]
    fixture_case = results["tests/test_subtests.py::test_fixture_subtests"]
    assert re.search(r"\[subtest \[case\] \(i='?1'?\)\]", fixture_case["longrepr"])
    many = results["tests/test_subtests.py::test_many_subtests_fail"]["longrepr"]
    assert many.count("[subtest (i=") == 10  # the first ten tracebacks, then a count
    assert many.endswith("[20 more subtests failed]")
    assert "FAILED tests/test_subtests.py::Cases::test_subtest - AssertionError: 2 == 2" in done.stdout
    assert "1 passed, 3 failed" in done.stdout
