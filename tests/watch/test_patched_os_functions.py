"""Recording dependencies does not trip a test tool that replaces ``os`` functions during tests.

blockbuster (starlette 1.10.0's conftest turns it on for every test) replaces ``os.stat``,
``os.path.abspath``, ``os.read`` and others with versions that raise when called inside a running
event loop from the project's frames. testwatch's audit hook runs inside those frames when a test
imports a module or opens a file, so it must not call them: found on starlette 1.10.0 with Python
3.12, where ``datetime.strptime`` importing ``_strptime`` inside the loop failed two tests with
"Blocking call to os.path.abspath" raised from the recorder. The conftest here stands in for
blockbuster. On 3.11 the recorder is coverage.py's tracer, whose own check of a newly imported
file calls ``os.path.realpath`` in the test's frames as it does under pytest-cov: only the 3.12+
recorder (the line monitor) is testwatch's to keep clear of them.
"""

from __future__ import annotations

import os
import sqlite3

from testwatch.collectors.in_pytest.line_monitor import real_path

PROJECT = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        pythonpath = ["."]
    """,
    "calc/__init__.py": "",
    "calc/core.py": """
        def double(x):
            return 2 * x
    """,
    "calc/late.py": """
        def triple(x):
            return 3 * x
    """,
    "calc/data.json": "[1, 2, 3]\n",
    "tests/conftest.py": """
        import asyncio
        import os

        import pytest

        REPLACED = [(os, "stat"), (os, "read"), (os.path, "abspath"), (os, "getcwd")]


        class BlockingError(Exception):
            pass


        def _blocking(name, original):
            def replaced(*args, **kwargs):
                try:
                    asyncio.get_running_loop()
                except RuntimeError:
                    return original(*args, **kwargs)
                raise BlockingError(f"Blocking call to {name}")

            return replaced


        @pytest.fixture(autouse=True)
        def no_blocking_calls_in_the_loop():
            saved = [(owner, name, getattr(owner, name)) for owner, name in REPLACED]
            for owner, name, original in saved:
                setattr(owner, name, _blocking(f"{owner.__name__}.{name}", original))
            yield
            for owner, name, original in saved:
                setattr(owner, name, original)
    """,
    "tests/test_loop.py": """
        import asyncio

        from calc.core import double


        def test_imports_and_reads_in_the_loop():
            async def main():
                from calc.late import triple  # first imported here, inside the loop

                with open("calc/data.json", "rb", buffering=0) as f:  # a relative path
                    data = f.readall()
                return triple(double(len(data)))

            assert asyncio.run(main()) == 60
    """,
}


def _record(make_project, cli, name: str, *run_args: str) -> set[tuple[str, str, str]]:
    root = make_project(PROJECT, name=name)
    out = cli("run", str(root), "--deps", *run_args, cwd=root)
    assert out.returncode == 0, out.stdout + out.stderr
    db = sqlite3.connect(root / ".testwatch" / "history.db")
    deps = set(db.execute("select nodeid, path, kind from test_deps"))
    db.close()
    return deps


EXPECTED = {
    ("tests/test_loop.py::test_imports_and_reads_in_the_loop", "calc/late.py", "block:triple"),
    ("tests/test_loop.py::test_imports_and_reads_in_the_loop", "calc/data.json", "file"),
}


def test_recording_with_the_line_monitor(python_312, make_project, cli):
    assert _record(make_project, cli, "monitored", "--python", python_312) >= EXPECTED


def test_real_path_resolves_as_os_path_realpath(tmp_path):
    (tmp_path / "real" / "pkg").mkdir(parents=True)
    (tmp_path / "real" / "pkg" / "mod.py").write_text("")
    (tmp_path / "abs").symlink_to(tmp_path / "real")  # absolute target
    (tmp_path / "real" / "up").symlink_to("..")  # relative target, upwards
    (tmp_path / "chain").symlink_to("abs/pkg")  # a link through a link
    (tmp_path / "loop1").symlink_to("loop2")
    (tmp_path / "loop2").symlink_to("loop1")
    paths = [
        "abs/pkg/mod.py",
        "chain/mod.py",
        "real/up/real/pkg/mod.py",
        "abs/pkg/../pkg/./mod.py",
        "chain/../pkg/mod.py",
        "missing/part.py",
        "abs/missing/../pkg/mod.py",
        "loop1/x.py",
    ]
    for relative in paths:
        path = str(tmp_path / relative)
        assert real_path(path) == os.path.realpath(path), relative
    assert real_path("/") == "/"
