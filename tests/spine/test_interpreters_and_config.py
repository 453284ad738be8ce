"""``--python`` with another interpreter (or a missing one), and config errors that name the key."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

OTHER_PYTHON = Path("/root/.pyenv/versions/3.12.1/bin/python")


@pytest.fixture(scope="session")
def other_venv(tmp_path_factory) -> Path:
    """A Python 3.12 venv with pytest, unlike the interpreter testwatch runs in."""
    if not OTHER_PYTHON.exists():
        pytest.skip(f"{OTHER_PYTHON} is not installed here")
    venv = tmp_path_factory.mktemp("venv312")
    subprocess.run([str(OTHER_PYTHON), "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "pytest"],
                         capture_output=True, text=True, timeout=600)
    if pip.returncode != 0:
        pytest.skip(f"cannot install pytest into a 3.12 venv: {pip.stderr[-300:]}")
    return venv / "bin" / "python"


def test_tests_run_under_the_interpreter_given_with_python(make_project, cli, tw, other_venv):
    root = make_project({"tests/test_version.py": """
        import sys

        def test_version():
            assert sys.version_info[:2] == (3, 12), sys.version
    """})
    done = cli("run", str(root), "--python", str(other_venv))
    assert done.returncode == 0, done.stdout + done.stderr
    assert tw.newest_results(root)["tests/test_version.py::test_version"]["outcome"] == "passed"
    (run,) = tw.query(tw.history_db(root), "select python from runs")
    assert run[0] == str(other_venv)


def test_missing_interpreter_is_a_clear_error(make_project, cli, tmp_path):
    root = make_project({"tests/test_a.py": "def test_ok():\n    pass\n"})
    missing = tmp_path / "no" / "python"
    done = cli("run", str(root), "--python", str(missing))
    assert done.returncode != 0
    assert str(missing) in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ("timeout = 'forever'", "timeout"),
        ("colour = true", "'colour'"),
        ("pytest_args = '-x'", "pytest_args"),
        ("max_restarts = -1", "max_restarts"),
    ],
)
def test_config_errors_name_the_key_and_the_file_and_run_nothing(make_project, cli, table, named):
    root = make_project({
        "pyproject.toml": f"[tool.testwatch]\n{table}\n",
        "tests/test_a.py": "def test_ok():\n    pass\n",
    })
    done = cli("run", str(root))
    assert done.returncode == 4
    assert named in done.stderr and "pyproject.toml" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (root / ".testwatch").exists()
