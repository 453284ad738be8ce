"""testwatch's memray tracking beside pytest-memray, in a venv of its own that has pytest-memray
installed (the dev venv must not have it: it would load into every child of the suite).

Active (``--memray``), pytest-memray owns the tracker and the markers and testwatch stays off;
only installed, it still tracks the tests carrying its markers, and testwatch tracks the rest.
Either way a project's ``filterwarnings = ["error"]`` must not stop the run: testwatch says what
it does through its own output, never through a Python warning.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

MIB = 1024 * 1024

PROJECT = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        filterwarnings = ["error"]
    """,
    "tests/test_a.py": """
        import pytest


        def test_allocates():
            data = bytearray(20 * 1024 * 1024)
            data[::4096] = b"\\1" * len(data[::4096])
            del data


        @pytest.mark.limit_memory("1 MB")
        def test_over_the_limit():
            data = bytearray(5 * 1024 * 1024)
            del data
    """,
}


@pytest.fixture(scope="session")
def pytest_memray_python(tmp_path_factory) -> str:
    """A venv of this Python with pytest and pytest-memray installed (made once per session)."""
    venv = tmp_path_factory.mktemp("pytest-memray") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    python = str(venv / "bin" / "python")
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", "pytest>=8", "pytest-memray>=1.6"],
        capture_output=True, text=True, timeout=900,
    )
    if install.returncode != 0:
        pytest.skip(f"cannot install pytest-memray: {install.stderr.strip()[-300:]}")
    return python


def _by_test(rows, root) -> dict[str, dict]:
    found = rows(root, "select nodeid, outcome, longrepr, heap_peak_bytes, peak_rss_bytes from results")
    return {row["nodeid"].split("::")[1]: row for row in found}


def test_installed_but_inactive_pytest_memray_leaves_memray_mode_on(pytest_memray_python, make_project,
                                                                    cli, rows):
    root = make_project(PROJECT)
    done = cli("run", str(root), "--python", pytest_memray_python, "--memray")
    output = done.stdout + done.stderr
    assert "INTERNALERROR" not in output and done.returncode == 1, output
    result = _by_test(rows, root)
    assert result["test_allocates"]["outcome"] == "passed"
    assert result["test_allocates"]["heap_peak_bytes"] >= 20 * MIB  # testwatch's tracker ran
    over = result["test_over_the_limit"]
    assert over["outcome"] == "failed", output
    assert "Test was limited to 1.0MiB" in over["longrepr"]  # pytest-memray's own verdict and wording


def test_active_pytest_memray_owns_the_tracker_and_testwatch_says_so(pytest_memray_python, make_project,
                                                                     cli, rows):
    root = make_project(PROJECT)
    done = cli("run", str(root), "--python", pytest_memray_python, "--memray", "--", "--memray")
    output = done.stdout + done.stderr
    assert "INTERNALERROR" not in output and done.returncode == 1, output
    assert "pytest-memray is active in this run" in done.stdout
    result = _by_test(rows, root)
    assert result["test_allocates"]["heap_peak_bytes"] is None  # testwatch's tracker stayed off
    assert result["test_allocates"]["peak_rss_bytes"] is not None  # the kernel peak still works beside it
    assert "Test was limited to 1.0MiB" in result["test_over_the_limit"]["longrepr"]
