"""coverage.py's tracer (Python 3.11's recorder) is set on the main thread only while project code
may run (``project_code_gate``), yet records what it recorded when it traced everything: the same
lines as ``coverage run``, and each test's dependencies through conftest.py hooks (wrappers too),
parametrization ``ids`` functions, a skip condition, fixture teardowns, unittest setups, a worker
thread started by an earlier test, a module's ``__getattr__`` that only pytest's collection calls,
an exception's ``__str__`` that only a failure's report calls and a conftest.py ``Item``'s
``reportinfo``. A test a conftest.py's ``File`` collects is selected by what it ran, not always.
Forced with ``--testwatch-tracer=coverage`` so that it runs on every Python."""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
import unittest

from tests.conftest import coverage_py_files
from testwatch.collectors.in_pytest.project_code_gate import ProjectCodeGate

PROJECT = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        pythonpath = ["."]
    """,
    "shop/__init__.py": "",
    "shop/settings.py": """
        def __getattr__(name):  # pytest's collection asks the module for ``__test__``
            raise AttributeError(name)
    """,
    "shop/pricing.py": """
        RATES = {"eu": 0.2}


        def vat(country):
            return RATES[country]


        def label(value):
            return f"<{value}>"


        def doubled(value):
            return value * 2


        def case_id(value):
            return f"case-{value}"


        def cleanup(entries):
            entries.append("done")


        def count_items(items):
            return len(items)


        def reported(when):
            return when.upper()


        def logged(when):
            return len(when)


        def discounts_on():
            return True


        def described(args):
            return ", ".join(map(str, args))


        def check_label(name):
            return f"check {name}"


        class PriceError(Exception):
            def __str__(self):  # only pytest's report of the failure asks
                return described(self.args)
    """,
    "shop/pool.py": """
        from concurrent.futures import ThreadPoolExecutor

        POOL = ThreadPoolExecutor(max_workers=1)  # its one thread serves every test
    """,
    "tests/conftest.py": """
        import pytest

        from shop import pricing


        def pytest_collection_modifyitems(items):
            pricing.count_items(items)


        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_makereport(item, call):
            report = yield
            pricing.reported(report.when)
            return report


        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_logreport(report):
            yield
            pricing.logged(report.when)


        class RatesCheck(pytest.Item):
            def runtest(self):
                assert pricing.vat("eu") == 0.2

            def reportinfo(self):  # pytest asks, as the check starts
                return self.path, 0, pricing.check_label(self.name)


        class ChecksFile(pytest.File):
            def collect(self):
                yield RatesCheck.from_parent(self, name="rates")


        def pytest_collect_file(parent, file_path):
            if file_path.suffix == ".check":
                return ChecksFile.from_parent(parent, path=file_path)


        @pytest.fixture
        def entries():
            found = []
            yield found
            pricing.cleanup(found)
    """,
    "tests/rates.check": "",
    "tests/test_pricing.py": """
        import unittest

        import pytest

        from shop import pricing, settings
        from shop.pool import POOL


        @pytest.mark.parametrize("value", [1, 2], ids=pricing.case_id)
        def test_label(value, entries):
            assert pricing.label(value).startswith("<")


        def test_first_in_the_worker():
            assert POOL.submit(pricing.doubled, 1).result() == 2


        def test_second_in_the_worker():
            assert POOL.submit(pricing.vat, "eu").result() == 0.2


        @pytest.mark.skipif("not pricing.discounts_on()", reason="a condition pytest evaluates in setup")
        def test_discount():
            assert pricing.label(0.9) == "<0.9>"


        @pytest.mark.xfail(raises=pricing.PriceError, strict=True)
        def test_bad_price():
            raise pricing.PriceError(-1)


        class RateCase(unittest.TestCase):
            def setUp(self):
                self.rate = pricing.vat("eu")

            def test_rate(self):
                self.assertEqual(self.rate, 0.2)
    """,
}
FORCED = ("--", "--testwatch-tracer=coverage")


def test_the_lines_run_are_the_ones_coverage_run_counts(make_project, cli):
    root = make_project(PROJECT)
    assert cli("run", str(root), "--deps", *FORCED).returncode == 0
    db = sqlite3.connect(root / ".testwatch" / "history.db")
    ours = {file: json.loads(missing or "[]") for file, missing in
            db.execute("select file, missing_lines from coverage")}
    files = coverage_py_files(root, "--source=.")
    theirs = {name: f["missing_lines"] for name, f in files.items()}
    assert ours["shop/pricing.py"] == []  # every function ran, some only in a hook, an id or a thread
    assert ours["shop/settings.py"] == []
    assert ours == {file: theirs[file] for file in ours}


def test_a_test_package_imported_past_the_import_hooks_counts_as_run(make_project, cli):
    # pytest's importlib import mode loads a test package's __init__.py from its path.
    root = make_project({
        "pyproject.toml": """
            [tool.pytest.ini_options]
            testpaths = ["tests"]
            addopts = "--import-mode=importlib"
        """,
        "tests/__init__.py": "SUITE = 'unit'",
        "tests/test_unit.py": """
            def test_unit():
                assert True
        """,
    })
    assert cli("run", str(root), "--deps", *FORCED).returncode == 0
    db = sqlite3.connect(root / ".testwatch" / "history.db")
    package = db.execute("select statements, covered from coverage where file = 'tests/__init__.py'")
    assert package.fetchall() == [(1, 1)]


def test_tests_depend_on_what_ran_in_hooks_teardowns_setups_and_threads(make_project, cli, edit, affected):
    root = make_project(PROJECT)
    assert cli("run", str(root), "--deps", *FORCED).returncode == 0
    pricing = root / "shop" / "pricing.py"

    edit(pricing, 'entries.append("done")', 'entries.append("finished")')
    assert sorted(affected(root)["selected"]) == [
        "tests/test_pricing.py::test_label[case-1]", "tests/test_pricing.py::test_label[case-2]",
    ]
    edit(pricing, 'entries.append("finished")', 'entries.append("done")')

    edit(pricing, "    return True", "    return False")
    assert affected(root)["selected"] == ["tests/test_pricing.py::test_discount"]
    edit(pricing, "    return False", "    return True")

    edit(pricing, 'return ", ".join(map(str, args))', 'return "; ".join(map(str, args))')
    assert affected(root)["selected"] == ["tests/test_pricing.py::test_bad_price"]
    edit(pricing, 'return "; ".join(map(str, args))', 'return ", ".join(map(str, args))')

    edit(pricing, 'return f"check {name}"', 'return f"checking {name}"')
    assert affected(root)["selected"] == ["tests/rates.check::rates"]
    edit(pricing, 'return f"checking {name}"', 'return f"check {name}"')

    edit(pricing, "return RATES[country]", "return RATES[country.lower()]")
    assert sorted(affected(root)["selected"]) == [
        "tests/rates.check::rates", "tests/test_pricing.py::RateCase::test_rate",
        "tests/test_pricing.py::test_second_in_the_worker",
    ]


class GateOnTheMainThread(unittest.TestCase):
    """The gate itself, with a Python trace function standing for coverage.py's."""

    def setUp(self):
        self.calls = []
        self.saved = sys.gettrace()

        def tracer(frame, event, arg):
            self.calls.append(frame.f_code.co_name)

        self.tracer = tracer
        sys.settrace(tracer)
        self.gate = ProjectCodeGate(lambda path: False, tracer)
        self.gate.begin()

    def tearDown(self):
        self.gate.close()
        sys.settrace(self.saved)

    def test_the_tracer_is_set_only_inside_windows_which_nest(self):
        assert sys.gettrace() is None
        self.gate.enter()
        self.gate.enter()
        self.gate.leave()
        assert sys.gettrace() is self.tracer
        self.gate.leave()
        assert sys.gettrace() is None

    def test_another_trace_function_set_meanwhile_is_left_alone_and_gating_ends(self):
        def debugger(frame, event, arg):
            return None

        self.gate.enter()
        sys.settrace(debugger)
        self.gate.leave()
        assert sys.gettrace() is debugger
        self.gate.enter()
        self.gate.leave()
        assert sys.gettrace() is debugger
        assert not self.gate.gating

    def test_a_window_open_on_another_thread_leaves_the_main_threads_alone(self):
        inside, done = threading.Event(), threading.Event()

        def hook_on_a_thread():
            self.gate.enter()
            inside.set()
            done.wait(10)
            self.gate.leave()

        thread = threading.Thread(target=hook_on_a_thread)
        thread.start()
        inside.wait(10)
        self.gate.enter()
        assert sys.gettrace() is self.tracer
        self.gate.leave()
        assert sys.gettrace() is None
        done.set()
        thread.join(10)

    def test_closing_the_gate_sets_the_tracer_for_good(self):
        self.gate.close()
        assert sys.gettrace() is self.tracer
