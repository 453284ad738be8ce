"""Issue 14, item 11: config and command-line values that are well-formed TOML or text but not
usable (infinite, NaN, not a table, not UTF-8, a port out of range or taken) and Ctrl-C in the
first second. Each ends with one clear line naming the key or option, exit 4 (or argparse's 2),
no traceback, nothing left running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest

ONE_TEST = {"tests/test_one.py": "def test_one():\n    pass\n"}

CONFIG_CASES = {
    "infinite size": (b"[tool.testwatch]\nmax_output = 1e400\n",
                      "[tool.testwatch]: max_output: expected a finite size, got inf"),
    "tool not a table": (b"tool = 5\n", "pyproject.toml: tool: expected a table, got 5"),
    "testwatch not a table": (b"[tool]\ntestwatch = 5\n",
                              "pyproject.toml [tool]: testwatch: expected a table, got 5"),
    "not UTF-8": (b"[tool.testwatch]\n# caf\xe9\ntimeout = 3\n",
                  "pyproject.toml: not valid TOML: not UTF-8 text (byte 22)"),
    "NaN timeout": (b"[tool.testwatch]\ntimeout = nan\n",
                    "[tool.testwatch]: timeout: expected a finite duration, got nan"),
    "NaN debounce": (b"[tool.testwatch]\ndebounce = nan\n",
                     "[tool.testwatch]: debounce: expected a finite duration, got nan"),
    "infinite debounce number": (b"[tool.testwatch]\ndebounce = inf\n",
                                 "[tool.testwatch]: debounce: expected a finite duration, got inf"),
}


@pytest.mark.parametrize("command", [["run"], ["watch", "--headless"], ["affected"]],
                         ids=["run", "watch", "affected"])
@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_an_unusable_config_value_is_one_line_naming_the_key(
    case, command, make_project, cli, processes_mentioning
):
    pyproject, expected = CONFIG_CASES[case]
    root = make_project(ONE_TEST)
    (root / "pyproject.toml").write_bytes(pyproject)
    done = cli(*command, str(root), timeout=60)
    assert done.returncode == 4, done.stdout + done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"testwatch: {root / 'pyproject.toml'}")
    assert expected in line
    assert not (root / ".testwatch").exists()
    assert processes_mentioning(str(root)) == []


@pytest.mark.parametrize("option, value", [("--timeout", "1e400"), ("--debounce", "1e999")])
def test_an_unusable_command_line_value_is_one_line_naming_the_option(option, value, make_project, cli):
    root = make_project(ONE_TEST)
    done = cli("watch", "--headless", str(root), option, value, timeout=60)
    assert done.returncode == 4, done.stdout + done.stderr
    assert done.stderr.splitlines() == [
        f"testwatch: command line: {option[2:]}: expected a finite duration, got {value!r}"
    ]


def test_serve_rejects_a_port_out_of_range(make_project, cli):
    done = cli("serve", str(make_project(ONE_TEST)), "--port", "99999", timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "testwatch serve: error: argument --port: expected a port number from 1 to 65535, got '99999'"
    )


def test_serve_on_a_busy_port_says_so_in_one_line(make_project, cli):
    pytest.importorskip("textual_serve")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = cli("serve", str(make_project(ONE_TEST)), "--port", str(port), timeout=60)
    assert done.returncode == 4
    [line] = done.stderr.splitlines()
    assert line.startswith(f"testwatch: --port {port}: cannot listen on 127.0.0.1: ")


SLOW = {"tests/test_slow.py": "import time\n\ndef test_slow():\n    time.sleep(30)\n"}


def test_ctrl_c_as_the_pytest_child_starts_leaves_nothing(
    make_project, wait_for, processes_mentioning, tmp_path
):
    root = make_project(SLOW)
    env = {k: v for k, v in os.environ.items() if k != "TESTWATCH_DB"}
    testwatch = subprocess.Popen(
        [sys.executable, "-m", "testwatch", "run", str(root)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        # The early child exists long before testwatch has finished starting up.
        wait_for(lambda: any(pid != testwatch.pid for pid, _ in processes_mentioning(str(root))),
                 timeout_s=60, what="the pytest child to start")
        testwatch.send_signal(signal.SIGINT)
        _, stderr = testwatch.communicate(timeout=60)
    finally:
        if testwatch.poll() is None:
            testwatch.kill()
    assert testwatch.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert processes_mentioning(str(root)) == []
