"""``testwatch export | head``: the reader stops early; testwatch ends quietly with the shell's code
for a command a closed pipe ended (141), no traceback. Every command shares this path (the entry
point), so one command that writes more than a pipe holds stands for all of them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CHATTY_TEST = """
def test_chatty():
    print("x" * 300_000)
"""


@pytest.mark.parametrize("output_format", ["csv", "json"])
def test_a_reader_that_stops_early_gets_no_traceback(output_format, make_project, cli):
    root = make_project({
        "test_chatty.py": CHATTY_TEST,
        "pyproject.toml": '[tool.testwatch]\nmax_output = "1 MB"\n',
    })
    assert cli("run", str(root), cwd=root).returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "TESTWATCH_DB"}
    argv = [sys.executable, "-m", "testwatch", "export", "--table", "results", "--format", output_format]
    child = subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # The row holds 300 KB of output, more than a pipe buffers: testwatch is still writing when
    # the reader goes away, so it must meet the closed pipe.
    assert child.stdout.read(10)
    child.stdout.close()
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=60) == 141, stderr
    assert stderr == ""
