"""``testwatch leaks`` on real tests: a small per-call leak is found, a clean test is not."""

from __future__ import annotations

PROJECT = {
    "tests/test_calls.py": """
        CACHE = []


        def test_leaks_a_little_per_call():
            CACHE.append(bytearray(150_000))


        def test_clean():
            data = [bytearray(150_000) for _ in range(5)]
            del data
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


def test_an_unknown_test_is_a_clear_error(make_project, cli):
    root = make_project(PROJECT)
    done = cli("leaks", "tests/test_calls.py::test_missing", str(root), "--repeat", "3")
    assert done.returncode == 4
    assert "test_missing did not run" in done.stderr
