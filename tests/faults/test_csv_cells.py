"""Scenario 14: CSV export of cells that a spreadsheet would run as formulas (``=``, ``+``, ``-``,
``@``, tab, CR) from real test output: neutralised with a leading quote, negative numbers stay
numbers, and the file round-trips through Python's csv module."""

from __future__ import annotations

import contextlib
import csv
import sqlite3

import pytest

PAYLOADS = {
    "equals": "=HYPERLINK(\"http://evil\",\"click\")",
    "plus": "+1+1",
    "minus": "-2+3",
    "at": "@SUM(A1:A9)",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
    "comma_quote_newline": 'a,"b"\nc',
}


def test_formula_cells_are_neutralised_and_numbers_kept(make_project, cli, history_of, tmp_path):
    tests = "\n".join(
        f"def test_{name}():\n    print({payload!r}, end='')\n" for name, payload in PAYLOADS.items()
    )
    root = make_project({"tests/test_cells.py": tests})
    assert cli("run", str(root)).returncode == 0
    db = history_of(root)
    # Retained memory is negative when a test frees more than it keeps: a real negative number.
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("update results set retained_bytes = -4096, duration_s = -0.5")

    out = tmp_path / "results.csv"
    export = cli("export", str(root), "--format", "csv", "-o", str(out))
    assert export.returncode == 0, export.stderr
    with out.open(newline="", encoding="utf-8") as f:  # as the csv module asks: CRs kept in cells
        rows = {row["nodeid"].split("::")[1]: row for row in csv.DictReader(f)}
    assert len(rows) == len(PAYLOADS)
    for name, payload in PAYLOADS.items():
        row = rows[f"test_{name}"]
        expected = payload if name == "comma_quote_newline" else "'" + payload
        assert row["stdout"] == expected, name
        assert row["retained_bytes"] == "-4096"
        assert float(row["duration_s"]) == pytest.approx(-0.5)
