"""Coverage thresholds end to end: a recorded run of the whole suite is judged by the coverage it
stored (which the recorder writes after the run's tests end), a selection of tests is not, and
``testwatch check`` measures coverage when a coverage threshold asks for it. Real pytest children,
real SQLite."""

from __future__ import annotations

import sqlite3

HALF_COVERED = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        pythonpath = ["."]

        [tool.testwatch.thresholds]
        coverage = 90
    """,
    "shop/__init__.py": "",
    "shop/prices.py": """
        def total(prices):
            return sum(prices)


        def unused(a, b):
            c = a + b
            d = c * 2
            e = d - a
            return e
    """,
    "shop/tax.py": """
        def vat(amount):
            return amount * 0.2
    """,
    "tests/test_prices.py": """
        from shop.prices import total


        def test_total():
            assert total([1, 2]) == 3
    """,
    "tests/test_tax.py": """
        from shop.tax import vat


        def test_vat():
            assert vat(10) == 2
    """,
}


def _coverage_breaches(root) -> list[tuple[int, str]]:
    db = sqlite3.connect(root / ".testwatch" / "history.db")
    try:
        return db.execute("select run_id, path from breaches where kind = 'coverage' order by id").fetchall()
    finally:
        db.close()


def test_a_recorded_run_of_every_test_is_judged_by_its_coverage(make_project, cli):
    root = make_project(HALF_COVERED)
    done = cli("run", str(root), "--deps")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no coverage data" not in done.stdout
    assert "BREACH  coverage" in done.stdout and "< 90.0%" in done.stdout
    assert _coverage_breaches(root) == [(1, "(total)")]
    gate = cli("check", str(root), "--last")
    assert gate.returncode == 1 and "coverage" in gate.stdout


def test_a_run_of_selected_tests_is_not_judged_by_the_coverage_of_that_selection(make_project, cli):
    limit_50 = HALF_COVERED["pyproject.toml"].replace("90", "50")
    root = make_project({**HALF_COVERED, "pyproject.toml": limit_50})
    assert cli("run", str(root), "--deps").returncode == 0
    assert _coverage_breaches(root) == []  # the whole suite covers more than half
    tax = root / "shop" / "tax.py"
    tax.write_text(tax.read_text().replace("amount * 0.2", "amount / 5"))
    done = cli("run", str(root), "--affected")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 test" in done.stdout  # only test_vat: the selection covers under half of the code
    assert _coverage_breaches(root) == []
    assert "BREACH" not in done.stdout


def test_check_measures_coverage_when_a_coverage_threshold_is_set(make_project, cli):
    root = make_project(HALF_COVERED)
    done = cli("check", str(root))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no coverage data" not in done.stdout
    assert _coverage_breaches(root) == [(1, "(total)")]
