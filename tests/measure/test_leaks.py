"""``testwatch leaks`` on real tests: a small per-call leak is found, a clean test is not."""

from __future__ import annotations

import re

PROJECT = {
    "tests/test_calls.py": """
        CACHE = []


        def test_leaks_a_little_per_call():
            CACHE.append(bytearray(150_000))


        def test_clean():
            data = [bytearray(150_000) for _ in range(5)]
            del data
    """,
    "tests/test_fixtures.py": """
        import pytest

        SETUPS = []


        @pytest.fixture(scope="module")
        def shared():
            SETUPS.append(1)
            return len(SETUPS)


        @pytest.fixture
        def fresh_file(tmp_path):
            return tmp_path / "written"


        @pytest.mark.parametrize("size", [20])  # its value comes from the item's own fixture closure
        def test_uses_fixtures(shared, fresh_file, size):
            print("what the test says " * size)
            assert shared == 1  # set up once for all iterations
            assert not fresh_file.exists()  # a new one each iteration
            fresh_file.write_text("x")
    """,
}


def test_a_per_call_leak_is_a_finding_with_its_location(make_project, cli):
    root = make_project(PROJECT)
    done = cli("leaks", "tests/test_calls.py::test_leaks_a_little_per_call", str(root), "--repeat", "30")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "LEAK: grows" in done.stdout
    assert "test_calls.py:5" in done.stdout  # memray names the line that keeps the memory


def test_a_clean_test_is_not_a_finding(make_project, cli):
    root = make_project(PROJECT)
    done = cli("leaks", "tests/test_calls.py::test_clean", str(root), "--repeat", "30")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no leak found" in done.stdout


def test_each_iteration_gets_fresh_function_fixtures_and_keeps_wider_ones(make_project, cli):
    root = make_project(PROJECT)
    done = cli("leaks", "tests/test_fixtures.py::test_uses_fixtures[20]", str(root), "--repeat", "30")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "30 iterations in one process" in done.stdout
    assert "no leak found" in done.stdout


def test_pytest_keeping_its_reports_is_not_the_tests_growth(make_project, cli):
    root = make_project(PROJECT)
    done = cli("leaks", "tests/test_fixtures.py::test_uses_fixtures[20]", str(root), "--repeat", "30")
    assert done.returncode == 0, done.stdout + done.stderr
    # pytest's reports of the earlier iterations and the output they captured (380 characters
    # each) are not kept: at most the last one's, which pytest keeps for its summary, is listed.
    kept = _listed_bytes(done.stdout)
    assert kept, done.stdout
    by_pytest = [size for location, size in kept.items() if "reports.py" in location or "codecs" in location]
    assert all(size < 1000 for size in by_pytest), done.stdout


def _listed_bytes(stdout: str) -> dict[str, float]:
    """memray's listed locations: location -> bytes never freed."""
    units = {"B": 1, "KB": 1024, "MB": 1024**2}
    listed = {}
    for line in stdout.splitlines():
        found = re.match(r"\s+([\d.]+) (B|KB|MB) \(.*/iteration\)\s+(.*)", line)
        if found:
            listed[found.group(3)] = float(found.group(1)) * units[found.group(2)]
    return listed


def test_an_unknown_test_is_a_clear_error(make_project, cli):
    root = make_project(PROJECT)
    done = cli("leaks", "tests/test_calls.py::test_missing", str(root), "--repeat", "3")
    assert done.returncode == 4
    assert "test_missing did not run" in done.stderr
