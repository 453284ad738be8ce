"""pytest-xdist passed through with -- -n 2: every worker's results reach the history."""

from __future__ import annotations

import textwrap

MODULE = textwrap.dedent("""
    import pytest

    @pytest.mark.parametrize("n", range(10))
    def test_square(n):
        assert n * n >= 0

    def test_fails():
        assert "worker" == "controller"
""")


def test_two_workers_report_every_result(make_project, cli, tw):
    root = make_project({"tests/test_a.py": MODULE, "tests/test_b.py": MODULE})
    done = cli("run", str(root), "--", "-n", "2")
    assert done.returncode == 1, done.stdout + done.stderr
    results = tw.newest_results(root)
    assert len(results) == 22
    assert sum(row["outcome"] == "passed" for row in results.values()) == 20
    assert results["tests/test_b.py::test_fails"]["outcome"] == "failed"
    assert "'worker' == 'controller'" in results["tests/test_b.py::test_fails"]["longrepr"]
    assert {row["worker"] for row in results.values()} == {"gw0", "gw1"}
    assert all(row["call_s"] is not None for row in results.values())
