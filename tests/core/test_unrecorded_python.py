"""Which Python children a test starts cannot run testwatch's start-up (``subprocess_deps``):
the interpreter's own options are read up to its script, ``-c`` or ``-m``."""

from __future__ import annotations

import os
import sys

import pytest

from testwatch.collectors.in_pytest import subprocess_deps
from testwatch.collectors.in_pytest.subprocess_deps import unrecorded_python


@pytest.mark.parametrize(("args", "expected"), [
    (["python3", "-I", "-m", "pkg"], "python3 -I"),
    (["python3", "-Im", "pkg"], "python3 -I"),
    (["python", "-X", "dev", "-E", "-c", "pass"], "python -E"),
    (["python3.12", "-W", "error", "-S", "x.py"], "python3.12 -S"),
    (["pypy3", "-sE", "x.py"], "pypy3 -E"),
    (["python", "-bIE", "x.py"], "python -EI"),
    (["python", "-Xdev", "x.py", "-I"], None),  # -I is the script's
    (["python", "-m", "pkg", "-I"], None),
    (["python", "-c", "-I"], None),
    (["python", "-B", "x.py"], None),
    (["ls", "-I"], None),  # not an interpreter
    ("python -I -m pkg", None),  # a shell command line: cannot tell
])
def test_options_that_skip_the_start_up(args, expected):
    assert unrecorded_python(None, args, None) == expected


def test_this_interpreter_is_known_by_its_file_whatever_it_is_called(tmp_path):
    link = tmp_path / "renamed"
    link.symlink_to(sys.executable)
    assert unrecorded_python(None, [str(link), "-E", "x.py"], None) == "renamed -E"
    assert unrecorded_python(str(link), ["anything", "-E", "x.py"], None) == "renamed -E"


def test_an_environment_without_the_start_up_is_one_of_its_own(tmp_path):
    out_dir = str(tmp_path)
    startup = os.path.join(out_dir, "startup")
    recording = {subprocess_deps.OUT_DIR_VAR: out_dir, subprocess_deps.CONTEXT_VAR: "tests/t.py::test",
                 "PYTHONPATH": os.pathsep.join([startup, "/elsewhere"])}
    assert unrecorded_python(None, ["python", "x.py"], recording) is None
    assert unrecorded_python(None, ["python", "x.py"], None) is None  # inherits the environment
    assert unrecorded_python(None, ["python", "x.py"], {"PATH": "/bin"}) == (
        "python with an environment of its own")
    without_path = {k: v for k, v in recording.items() if k != "PYTHONPATH"}
    assert unrecorded_python(None, ["python", "x.py"], without_path) == (
        "python with an environment of its own")
    as_bytes = {k.encode(): v.encode() for k, v in recording.items()}
    assert unrecorded_python(None, [b"python", b"x.py"], as_bytes) is None
