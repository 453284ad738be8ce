"""The sys.monitoring recorder (Python 3.12+) records what coverage.py records on 3.11.

The same sample project is recorded twice with ``testwatch run --deps``: once by this
interpreter's child (3.11: coverage.py's tracer) and once by a 3.12+ child (``--python``) from a
venv holding pytest but not coverage.py, so the line monitor is the only recorder it can use.
Each test's dependencies (with fingerprints) and the coverage rows must be the same.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.conftest import coverage_py_files
from tests.watch.conftest import SAMPLE

EXTRA_FILES = {
    # A project plugin that pytest imports before any recorder exists.
    "pyproject.toml": SAMPLE["pyproject.toml"].replace(
        "[tool.pytest.ini_options]", '[tool.pytest.ini_options]\n        addopts = ["-p", "calc.early"]'
    ),
    "calc/early.py": """
        class Early:
            @property
            def value(self):
                return 3


        def early_value():
            return Early().value
    """,
    "tests/test_early.py": """
        from calc.early import early_value


        def test_early():
            assert early_value() == 3
    """,
    # Code objects that share a file, first line and name (two lambdas), and a generator resumed
    # many times within one test: one block line each, as coverage.py's contexts give.
    "calc/pairs.py": """
        STEPS = (lambda x: x + 1, lambda x: x * 2)


        def countdown(n):
            while n:
                yield n
                n -= 1
    """,
    "tests/test_pairs.py": """
        from calc.pairs import STEPS, countdown


        def test_steps():
            assert [step(3) for step in STEPS] == [4, 6]


        def test_countdown():
            assert list(countdown(3)) == [3, 2, 1]
    """,
    # Never imported: coverage.py lists it at 0%; the monitor's record must too.
    "calc/unused.py": """
        def never():
            return 1
    """,
    "calc/shapes.py": """
        class Square:
            sides = 4

            def __init__(self, size):
                self.size = size

            @property
            def area(self):
                return self.size * self.size


        def total_area(squares):
            return sum(s.area for s in squares)
    """,
    "tests/test_shapes.py": """
        import pytest

        from calc.shapes import Square, total_area


        @pytest.mark.parametrize("size", [1, 2])
        def test_area(size):
            assert Square(size).area == size * size


        def test_total_area():
            from calc.core import negate  # imported while the test runs

            assert negate(total_area([Square(1), Square(2)])) == -5
    """,
}


def _recorded(make_project, cli, name: str, *run_args: str) -> tuple[set, list]:
    """Record the sample project with ``run --deps``; its test_deps rows and coverage rows."""
    root = make_project({**SAMPLE, **EXTRA_FILES}, name=name)
    out = cli("run", str(root), "--deps", *run_args)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "warning" not in (out.stdout + out.stderr).lower(), out.stdout + out.stderr
    db = sqlite3.connect(root / ".testwatch" / "history.db")
    deps = set(db.execute("select nodeid, path, kind, fingerprint from test_deps"))
    coverage = list(db.execute(
        "select file, statements, covered, percent, missing_lines from coverage order by file"
    ))
    db.close()
    return deps, coverage


@pytest.fixture
def recorded_by_coverage_py(make_project, cli):
    """The reference: coverage.py's tracer in this interpreter's child (3.11's recorder, chosen
    explicitly on 3.12+, where the monitor would record)."""
    return _recorded(make_project, cli, "reference", "--", "--testwatch-tracer=coverage")


def test_monitor_records_what_coverage_py_records(python_312, recorded_by_coverage_py, make_project, cli):
    deps, coverage = _recorded(make_project, cli, "monitored", "--python", python_312)
    reference_deps, reference_coverage = recorded_by_coverage_py
    kinds = {(nodeid, path, kind) for nodeid, path, kind, _ in deps}
    assert ("tests/test_core.py::test_double", "calc/core.py", "block:double") in kinds
    assert ("tests/test_shapes.py::test_area[2]", "calc/shapes.py", "block:Square.area") in kinds
    assert ("tests/test_shapes.py::test_total_area", "calc/core.py", "block:negate") in kinds
    assert ("tests/test_io.py::test_offset", "calc/data.json", "file") in kinds
    assert ("tests/test_early.py::test_early", "calc/early.py", "block:Early.value") in kinds
    assert deps == reference_deps
    assert ("calc/unused.py", 2, 0, 0.0, "[1, 2]") in coverage
    assert coverage == reference_coverage


def test_monitor_in_xdist_workers(python_312, recorded_by_coverage_py, make_project, cli):
    deps, coverage = _recorded(make_project, cli, "workers", "--python", python_312, "--", "-n", "2")
    reference_deps, reference_coverage = recorded_by_coverage_py
    assert deps == reference_deps
    # A known gap: an xdist worker is started by execnet, not by testwatch, so its recorder starts
    # as pytest registers it, after the `-p calc.early` of addopts imported that module: the
    # module's own lines (class and def statements) are missed there, and only there.
    early_in_workers = ("calc/early.py", 6, 2, 33.33, "[1, 2, 3, 7]")
    assert ("calc/early.py", 6, 6, 100.0, "[]") in reference_coverage
    assert coverage == [early_in_workers if row[0] == "calc/early.py" else row for row in reference_coverage]


EARLY_IMPORT = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        pythonpath = ["."]
    """,
    "shop/__init__.py": """
        from shop.cart import Cart, total

        __all__ = ["Cart", "total"]
        VERSION = "1.0"
    """,
    "shop/cart.py": """
        import sys

        VAT = 0.2
        if sys.version_info < (3, 0):
            VAT = 0.0


        class Cart:
            def __init__(self):
                self.items = []

            def add(self, price):
                self.items.append(price)

            def never_used(self):
                return len(self.items)


        def total(cart):
            return sum(cart.items) * (1 + VAT)
    """,
    # As click's: the conftest imports the package before any test module is collected.
    "tests/conftest.py": """
        import pytest

        import shop


        @pytest.fixture
        def cart():
            return shop.Cart()
    """,
    "tests/test_cart.py": """
        from shop import total


        def test_total(cart):
            cart.add(10)
            assert total(cart) == 12
    """,
}


def _coverage_py_reference(root) -> dict[str, tuple[int, int, list[int]]]:
    """``coverage run --source=shop -m pytest``: file -> (statements, covered, missing lines)."""
    return {path: (data["summary"]["num_statements"], data["summary"]["covered_lines"],
                   data["missing_lines"]) for path, data in coverage_py_files(root, "--source=shop").items()}


# As marshmallow's: pytest 9 applies filterwarnings before any -p plugin loads, and a filter naming
# the package's own warning class imports the package there.
EARLY_IMPORT_BY_WARNING_FILTER = {
    **EARLY_IMPORT,
    "pyproject.toml": EARLY_IMPORT["pyproject.toml"]
    + '        filterwarnings = ["ignore::shop.cart.CartWarning"]\n',
    "shop/cart.py": EARLY_IMPORT["shop/cart.py"]
    + "\n\n        class CartWarning(UserWarning):\n            pass\n",
    "tests/conftest.py": """
        import pytest


        @pytest.fixture
        def cart():
            from shop import Cart

            return Cart()
    """,
}


@pytest.mark.parametrize("recorder", ["coverage.py", "monitor"])
@pytest.mark.parametrize("early", ["conftest", "warning filter"])
def test_coverage_counts_lines_run_at_import_as_coverage_run_does(
    recorder, early, request, make_project, cli
):
    files = EARLY_IMPORT if early == "conftest" else EARLY_IMPORT_BY_WARNING_FILTER
    root = make_project(files, name=recorder)
    python = [] if recorder == "coverage.py" else ["--python", request.getfixturevalue("python_312")]
    done = cli("run", str(root), "--coverage", *python)
    assert done.returncode == 0, done.stdout + done.stderr
    db = sqlite3.connect(root / ".testwatch" / "history.db")
    ours = {file: (statements, covered, json.loads(missing)) for file, statements, covered, missing in
            db.execute("select file, statements, covered, missing_lines from coverage")}
    db.close()
    reference = _coverage_py_reference(root)
    assert reference["shop/cart.py"][2] == [5, 16]  # the untaken module-level branch, never_used
    assert ours == reference


def test_forked_run_records_from_before_pytest_reads_its_configuration(make_project, cli):
    """Warm start: the pytest forked from the warm process starts recording as a cold one does,
    before a warning filter imports the package."""
    root = make_project(EARLY_IMPORT_BY_WARNING_FILTER, name="warm")
    done = cli("run", str(root), "--coverage", "--warm")
    assert done.returncode == 0, done.stdout + done.stderr
    db = sqlite3.connect(root / ".testwatch" / "history.db")
    rows = db.execute("select file, missing_lines from coverage")
    ours = {file: json.loads(missing) for file, missing in rows}
    db.close()
    assert ours["shop/cart.py"] == _coverage_py_reference(root)["shop/cart.py"][2] == [5, 16]
