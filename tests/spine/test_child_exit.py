"""How testwatch's pytest child shuts down: the user's exit handlers run, the final garbage
collection over the whole heap does not (it only frees memory the exit frees anyway)."""

from __future__ import annotations

import subprocess
import sys

PROJECT = {
    "conftest.py": """
        import atexit
        import gc
        import pathlib

        OUT = pathlib.Path(__file__).parent / "exit.txt"
        FROZEN_AT_START = gc.get_freeze_count()  # 375 from the start on CPython 3.12.1, 0 on 3.11


        def _registered_first_runs_last():
            with OUT.open("a") as f:
                f.write(f"last handler: heap frozen={gc.get_freeze_count() > FROZEN_AT_START}\\n")


        atexit.register(_registered_first_runs_last)


        def _registered_late():
            with OUT.open("a") as f:
                f.write("late handler ran\\n")


        def pytest_unconfigure(config):
            atexit.register(_registered_late)
    """,
    "tests/test_one.py": """
        def test_one():
            pass
    """,
}


def test_the_child_skips_the_exit_collection_and_runs_every_exit_handler(make_project, cli):
    root = make_project(PROJECT)
    done = cli("run", str(root))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (root / "exit.txt").read_text().splitlines() == [
        "late handler ran", "last handler: heap frozen=True",
    ]


def test_plain_pytest_is_left_as_it_is(make_project):
    root = make_project(PROJECT)
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "testwatch.collectors.in_pytest.pytest_plugin"],
        cwd=root, check=True, capture_output=True,
    )
    assert (root / "exit.txt").read_text().splitlines() == [
        "late handler ran", "last handler: heap frozen=False",
    ]
