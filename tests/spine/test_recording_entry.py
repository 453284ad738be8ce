"""The recording child's entry point (``record_first``) starts pytest through its public API only:
pytest 9.2 deprecates ``console_main`` for any caller but ``python -m pytest``, pytest 10 removes it."""

from __future__ import annotations

import subprocess
import sys

PROJECT = {
    "tests/test_one.py": """
        def test_one():
            assert 1 + 1 == 2
    """,
}


def test_the_recording_child_runs_pytest_without_deprecated_entry_points(make_project, tmp_path):
    root = make_project(PROJECT)
    out = tmp_path / "deps"
    out.mkdir()
    done = subprocess.run(
        [sys.executable, "-W", "error:pytest.console_main() is deprecated", "-m",
         "testwatch.collectors.in_pytest.record_first", str(root),
         "-p", "testwatch.collectors.in_pytest.deps_plugin", f"--testwatch-deps={out}",
         "-p", "no:cacheprovider", "-q", "tests"],
        cwd=root, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert [path.name for path in out.glob("deps.*.json")]  # it recorded
