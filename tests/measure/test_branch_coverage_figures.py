"""With ``branch = true`` the coverage rows carry branch figures, and each file's percent counts
branches as ``coverage report --branch`` does (before, the recording measured arcs but the rows
kept lines only: ``branches`` and ``covered_branches`` stayed empty). Checked against a real
``coverage run --branch`` of the same project."""

from __future__ import annotations

import sqlite3

from tests.conftest import coverage_py_files

PROJECT = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        pythonpath = ["."]

        [tool.testwatch]
        branch = true
    """,
    "shop/__init__.py": "",
    "shop/prices.py": """
        def label(price):
            if price > 100:
                return "dear"
            return "cheap"


        def discount(price, member):
            if member:
                price = price * 0.9
            for _ in range(2):
                price = price - 1
            return price
    """,
    "tests/test_prices.py": """
        from shop.prices import discount, label


        def test_label():
            assert label(5) == "cheap"


        def test_discount():
            assert discount(100, True) == 88
    """,
}


def test_branch_figures_match_coverage_report_with_branches(make_project, cli):
    root = make_project(PROJECT)
    assert cli("run", str(root), "--deps").returncode == 0
    db = sqlite3.connect(root / ".testwatch" / "history.db")
    db.row_factory = sqlite3.Row
    ours = {row["file"]: dict(row) for row in db.execute("select * from coverage")}
    theirs = coverage_py_files(root, "--branch", "--source=shop")["shop/prices.py"]["summary"]
    row = ours["shop/prices.py"]
    assert (row["statements"], row["covered"]) == (theirs["num_statements"], theirs["covered_lines"])
    assert (row["branches"], row["covered_branches"]) == (theirs["num_branches"], theirs["covered_branches"])
    assert theirs["num_branches"] > theirs["covered_branches"]  # one branch of label() is never taken
    assert row["percent"] == round(theirs["percent_covered"], 2)
