"""A source edited within the second its .pyc was written, keeping its size, is what runs next.

Python takes a ``.pyc`` for its source while the mtime in whole seconds and the size match;
testwatch removes such a file when it is older than the source (``testwatch.run.stale_bytecode``).
pytest 9 checks its rewritten test files' ``.pyc`` by the source's hash; pytest 8 by mtime and
size, which the same rule covers. The mtimes are set a minute ahead so that every edit lands in
the second of the version before it, however slow the machine.
"""

from __future__ import annotations

import os
import py_compile
import time

import pytest

from testwatch.collectors.in_testwatch.project_files import IgnoreRules
from testwatch.run.stale_bytecode import pycache_prefix, remove_stale_bytecode

PROJECT = {
    "pyproject.toml": '[tool.pytest.ini_options]\npythonpath = ["."]\n',
    "shop.py": "VALUE = 1\n",
    "tests/test_shop.py": "from shop import VALUE\n\n\ndef test_value():\n    assert VALUE == 1\n",
}
BYTECODE_ON = {"PYTHONDONTWRITEBYTECODE": None}  # as a user runs it: .pyc files are written


def _write_in_second(path, text: str, second: int, offset_ms: int) -> None:
    """Write ``text`` with an mtime ``offset_ms`` into ``second`` (the same size as before)."""
    assert len(text) == path.stat().st_size
    path.write_text(text)
    ns = second * 10**9 + offset_ms * 10**6
    os.utime(path, ns=(ns, ns))


@pytest.mark.parametrize("prefixed", [False, True], ids=["__pycache__", "PYTHONPYCACHEPREFIX"])
def test_an_edit_in_the_second_of_the_last_compile_is_what_the_next_run_tests(
    make_project, cli, tmp_path, prefixed
):
    root = make_project(PROJECT)
    second = int(time.time()) + 60
    shop = root / "shop.py"
    os.utime(shop, ns=(second * 10**9, second * 10**9))
    env = dict(BYTECODE_ON)
    cache = root / "__pycache__"
    if prefixed:  # .pyc files in a mirror of the source's folders under the prefix
        env["PYTHONPYCACHEPREFIX"] = str(tmp_path / "pycache")
        cache = tmp_path / "pycache" / str(root.resolve()).lstrip(os.sep)

    recorded = cli("run", "--deps", str(root), env=env)
    assert recorded.returncode == 0, recorded.stdout
    assert list(cache.glob("shop.*.pyc")), "the run compiled shop.py"

    _write_in_second(shop, "VALUE = 2\n", second, 500)  # breaks test_value
    affected = cli("run", "--affected", str(root), env=env)  # the engine releases its child
    assert affected.returncode == 1, affected.stdout
    assert "assert 2 == 1" in affected.stdout

    _write_in_second(shop, "VALUE = 1\n", second, 600)  # mends it
    plain = cli("run", str(root), env=env)  # started before the engine
    assert plain.returncode == 0, plain.stdout


def test_only_a_pyc_written_before_its_source_changed_and_still_matching_it_is_removed(tmp_path):
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / ".venv" / "lib").mkdir(parents=True)
    now = int(time.time())

    def compiled(relative: str, text: str, mode=py_compile.PycInvalidationMode.TIMESTAMP) -> str:
        source = root / relative
        source.write_text(text)
        os.utime(source, ns=(now * 10**9, now * 10**9))
        return py_compile.compile(str(source), doraise=True, invalidation_mode=mode)

    stale = compiled("pkg/stale.py", "A = 1\n")
    fresh = compiled("pkg/fresh.py", "B = 1\n")
    hashed = compiled("pkg/hashed.py", "C = 1\n", py_compile.PycInvalidationMode.CHECKED_HASH)
    resized = compiled("pkg/resized.py", "D = 1\n")
    venv = compiled(".venv/lib/mod.py", "E = 1\n")
    later_ns = now * 10**9 + 900 * 10**6  # same second, after the .pyc files were written
    for relative, text in [("pkg/stale.py", "A = 2\n"), ("pkg/hashed.py", "C = 2\n"),
                           ("pkg/resized.py", "D = 22\n"), (".venv/lib/mod.py", "E = 2\n")]:
        (root / relative).write_text(text)
        os.utime(root / relative, ns=(later_ns, later_ns))
    for pyc in (stale, fresh, hashed, resized, venv):
        os.utime(pyc, ns=(now * 10**9 + 100 * 10**6,) * 2)

    assert remove_stale_bytecode(IgnoreRules(root)) == 1
    assert not os.path.exists(stale)  # Python would have run A = 1
    assert all(os.path.exists(p) for p in (fresh, hashed, venv))  # newer, checked by hash, not the project's
    assert os.path.exists(resized)  # its size no longer matches: Python compiles it anew by itself


def test_the_pycache_prefix_is_the_one_the_child_python_reads():
    assert pycache_prefix({}, "/project") is None
    assert pycache_prefix({"PYTHONPYCACHEPREFIX": ""}, "/project") is None  # Python ignores it empty
    assert pycache_prefix({"PYTHONPYCACHEPREFIX": "build/pyc"}, "/project") == "/project/build/pyc"
    assert pycache_prefix({"PYTHONPYCACHEPREFIX": "/cache"}, "/project") == "/cache"
