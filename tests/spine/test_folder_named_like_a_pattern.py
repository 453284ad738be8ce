"""A project in a folder named like a pattern (``shop [old]``) is recorded and selected as any other.

pytest refuses an absolute path holding ``[`` as an argument (a parametrization), so a selected
run named its test files to pytest that way and ran nothing; from coverage.py 7.18 the ``source``
setting reads ``*``, ``?`` and ``[`` as a pattern, so the folder matched nothing and every file
outside the standard library and site-packages (an editable install, a helper on ``sys.path``)
was traced too."""

from __future__ import annotations

import subprocess
import sys

import coverage

from tests.conftest import write_files

PROJECT = {
    "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n',
    "shop.py": "def price():\n    return 3\n",
    "tests/conftest.py": "import sys\nsys.path.insert(0, {elsewhere!r})\n",
    "tests/test_shop.py": "import helper\nfrom shop import price\n\n\ndef test_price():\n"
                          "    assert price() == helper.three()\n",
}


def test_the_coverage_recorder_traces_the_project_only_in_a_folder_named_like_a_pattern(tmp_path):
    root = tmp_path / "shop [old]"
    elsewhere = tmp_path / "elsewhere"
    write_files(elsewhere, {"helper.py": "def three():\n    return 3\n"})
    conftest = PROJECT["tests/conftest.py"].format(elsewhere=str(elsewhere))
    write_files(root, {**PROJECT, "tests/conftest.py": conftest})
    out = tmp_path / "deps"
    out.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "testwatch.collectors.in_pytest.record_first", str(root),
         "-p", "testwatch.collectors.in_pytest.deps_plugin", f"--testwatch-deps={out}",
         "--testwatch-tracer=coverage", "-p", "no:cacheprovider", "-q"],
        cwd=root, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [data_file] = out.glob("cov.*")
    data = coverage.CoverageData(basename=str(data_file))
    data.read()
    measured = sorted(data.measured_files())
    assert str(root / "shop.py") in measured
    assert all(path.startswith(str(root)) for path in measured), measured


def test_an_edit_in_a_folder_named_like_a_pattern_runs_the_tests_it_affects(tmp_path, cli):
    root = tmp_path / "shop [old]"
    write_files(root, {
        "pyproject.toml": PROJECT["pyproject.toml"],
        "shop.py": "RATE = 2\n\n\ndef price():\n    return 3 * RATE\n",
        "tests/test_shop.py": "from shop import price\n\n\ndef test_price():\n    assert price() == 6\n\n\n"
                              "def test_other():\n    assert True\n",
    })
    recorded = cli("run", "--deps", str(root))
    assert recorded.returncode == 0, recorded.stdout
    (root / "shop.py").write_text("RATE = 3\n\n\ndef price():\n    return 3 * RATE\n")

    affected = cli("run", "--affected", str(root))
    assert affected.returncode == 1, affected.stdout  # it ran test_price, which fails
    assert "1 failed" in affected.stdout
