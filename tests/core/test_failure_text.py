"""A failure's headline is the line pytest's short test summary shows, on real pytest reports:
the demo's planted failure and the usual shapes of failures and errors."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys

from testwatch.cli.demo_copy import copy_demo
from testwatch.model.failure_text import headline, locations

SHAPES = {
    "tests/test_shapes.py": """
        import pytest


        class Cart:
            def total(self):
                return 9.41


        def make_cart():
            return Cart()


        @pytest.fixture
        def broken():
            raise RuntimeError("fixture could not start")


        def test_plain_assert_with_where_lines():
            assert make_cart().total() == 9.4


        def test_raises_that_did_not_raise():
            with pytest.raises(ValueError):
                pass


        def test_error_in_a_fixture(broken):
            pass


        def test_missing_fixture(no_such_fixture):
            pass


        def test_chained_exception():
            try:
                {}["key"]
            except KeyError:
                raise ValueError("while handling the key")


        def test_multi_line_message():
            raise TypeError("first line\\nsecond line")


        def test_assert_with_message():
            value = [1, 2]
            assert len(value) == 3, "expected three items"
    """,
}
_SUMMARY = re.compile(r"^(?:FAILED|ERROR) (\S+)(?: - (.*))?$", re.MULTILINE)


def _stored_longreprs(root) -> dict[str, str]:
    conn = sqlite3.connect(root / ".testwatch" / "history.db")
    try:
        return dict(conn.execute("select nodeid, longrepr from results where longrepr != ''"))
    finally:
        conn.close()


def _pytest_summary(root) -> dict[str, str]:
    """pytest's own short test summary: nodeid -> the first line after ' - ' (untruncated on CI),
    empty where pytest names no message (a missing fixture)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-rfE", "-p", "no:cacheprovider", "tests"], cwd=root,
        capture_output=True, text=True, env={**os.environ, "CI": "1"}, timeout=120,
    )
    return dict(_SUMMARY.findall(done.stdout))


def test_headline_is_what_pytest_short_summary_shows(make_project, cli):
    root = make_project(SHAPES)
    done = cli("run", str(root))
    assert done.returncode == 1, done.stdout + done.stderr
    stored = _stored_longreprs(root)
    expected = _pytest_summary(root)
    assert len(expected) == 7, expected
    assert expected["tests/test_shapes.py::test_plain_assert_with_where_lines"] == "assert 9.41 == 9.4"
    missing = "tests/test_shapes.py::test_missing_fixture"
    assert expected.pop(missing) == ""
    assert headline(stored[missing]) == "fixture 'no_such_fixture' not found"
    plain = stored["tests/test_shapes.py::test_plain_assert_with_where_lines"]
    [where] = locations(plain)
    source = (root / "tests" / "test_shapes.py").read_text().splitlines()
    assert (where.path, where.message) == ("tests/test_shapes.py", "AssertionError")
    assert source[where.lineno - 1].strip() == "assert make_cart().total() == 9.4"
    for nodeid, summary in expected.items():
        assert headline(stored[nodeid]) == summary, (nodeid, stored[nodeid])
        assert f" {nodeid} - {summary}\n" in done.stdout  # the headless run's own short summary


def test_demo_failure_headline_is_the_assertion_not_its_where_lines(tmp_path, cli):
    root = copy_demo(tmp_path / "demo")
    done = cli("run", str(root))
    assert done.returncode == 1, done.stdout + done.stderr
    [longrepr] = _stored_longreprs(root).values()
    assert "+  where" in longrepr  # the lines the headline must not be
    assert headline(longrepr) == "assert 9.41 == 9.4"
    assert "::test_loyalty_discount_rounds_down - assert 9.41 == 9.4\n" in done.stdout
    exported = cli("export", str(root), "--format", "json-report")
    [failed] = [test for test in json.loads(exported.stdout)["tests"] if test["outcome"] == "failed"]
    assert failed["call"]["crash"]["message"] == "assert 9.41 == 9.4"
