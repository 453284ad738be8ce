"""The coverage figures follow the project's own coverage.py settings, as ``coverage report``
does: omitted files are left out and excluded lines are not statements. Checked against a real
``coverage run`` of the same project."""

from __future__ import annotations

import sqlite3

from tests.conftest import coverage_py_files
from testwatch.measure.coverage_settings import CoverageSettings

PROJECT = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        pythonpath = ["."]

        [tool.coverage.report]
        omit = ["shop/legacy.py"]
        exclude_also = ["if TYPE_CHECKING:", "raise NotImplementedError"]
    """,
    "shop/__init__.py": "",
    "shop/prices.py": """
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from decimal import Decimal


        def total(prices):
            return sum(prices)


        def exotic(kind):
            raise NotImplementedError(kind)
    """,
    "shop/legacy.py": """
        def old():
            return 1


        def older():
            return 2
    """,
    "tests/test_prices.py": """
        import shop.legacy
        from shop.prices import total


        def test_total():
            assert total([1, 2]) == 3
    """,
}


def test_figures_match_coverage_report_under_the_projects_settings(make_project, cli):
    root = make_project(PROJECT)
    assert cli("run", str(root), "--deps").returncode == 0
    db = sqlite3.connect(root / ".testwatch" / "history.db")
    ours = {file: (statements, covered) for file, statements, covered in
            db.execute("select file, statements, covered from coverage")}
    files = coverage_py_files(root, "--source=shop")
    theirs = {name: (f["summary"]["num_statements"], f["summary"]["covered_lines"])
              for name, f in files.items()}
    assert "shop/legacy.py" not in ours  # omitted by [tool.coverage.report]
    assert ours["shop/prices.py"] == theirs["shop/prices.py"]
    assert ours == theirs


def test_a_config_coverage_cannot_use_says_why_and_counts_with_defaults(tmp_path):
    (tmp_path / ".coveragerc").write_text("[run]\nplugins = no_such_coverage_plugin\n")
    settings = CoverageSettings(tmp_path)
    assert ".coveragerc" in settings.problem and "no_such_coverage_plugin" in settings.problem
    assert not settings.omitted(str(tmp_path / "a.py"))


SOURCES = {
    # As starlette 1.10.0's settings: a package and the tests folder; the benchmarks package
    # beside them, never imported by a test, is not measured by coverage run.
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        pythonpath = ["."]

        [tool.coverage.run]
        source_pkgs = ["shop"]
        source = ["tests"]
    """,
    "shop/__init__.py": "",
    "shop/prices.py": """
        def total(prices):
            return sum(prices)
    """,
    "benchmarks/__init__.py": "",
    "benchmarks/bench_prices.py": """
        from shop.prices import total


        def bench():
            return total(range(1000))
    """,
    "tests/helpers.py": """
        def prices():
            return [1, 2]
    """,
    "tests/test_prices.py": """
        from shop.prices import total
        from tests.helpers import prices


        def test_total():
            assert total(prices()) == 3
    """,
}


def test_figures_cover_the_sources_the_settings_name(make_project, cli):
    root = make_project(SOURCES)
    (root / "tests" / "__init__.py").write_text("")
    assert cli("run", str(root), "--deps").returncode == 0
    db = sqlite3.connect(root / ".testwatch" / "history.db")
    ours = {file: (statements, covered) for file, statements, covered in
            db.execute("select file, statements, covered from coverage")}
    files = coverage_py_files(root)
    theirs = {name: (f["summary"]["num_statements"], f["summary"]["covered_lines"])
              for name, f in files.items() if name != "tests/test_prices.py"}  # test files: never ours
    assert "benchmarks/bench_prices.py" not in ours
    assert ours == theirs


def test_sources_that_cannot_be_found_measure_the_whole_project(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.coverage.run]\nsource_pkgs = ["installed_elsewhere"]\n')
    assert not CoverageSettings(tmp_path).omitted(str(tmp_path / "a.py"))
