"""Issue 14, items 7 and 12: what reaches the engine over the event socket. Its path is in every
test's environment, so a test can write anything to it; and a test can print far more than an
event line may carry."""

from __future__ import annotations

import pytest

BAD_EVENT_SUITE = """
import os
import socket


def test_writes_to_the_event_socket():
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(os.environ["TESTWATCH_EVENTS_SOCKET"])
        sock.sendall({line!r} + b"\\n")


def test_after():
    pass
"""


@pytest.mark.parametrize("line", [
    b'{"event":"test","nodeid":"x"}',
    b'{"event":"start"}',
    b"[1,2,3]",
    b'{"event":"test","nodeid":"x","phases":[{"when":"call"}]}',
    b'{"event":"collected","items":[5]}',
], ids=["test-without-phases", "start-without-nodeid", "array", "phase-without-outcome", "bad-items"])
def test_a_malformed_event_is_skipped_and_the_run_ends(line, make_project, cli, history_of, query, outcomes):
    root = make_project({"tests/test_writer.py": BAD_EVENT_SUITE.format(line=line)})
    done = cli("run", str(root))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "malformed event from pytest skipped" in done.stdout
    db = history_of(root)
    assert query(db, "select status, exit_status from runs") == [("finished", 0)]
    assert outcomes(db) == {
        "tests/test_writer.py::test_writes_to_the_event_socket": "passed",
        "tests/test_writer.py::test_after": "passed",
    }


HUGE_OUTPUT_SUITE = """
def test_prints_70_mb():
    print("x" * 70_000_000)


def test_after():
    pass
"""


def test_output_beyond_an_event_line_is_cut_in_the_child(make_project, cli, history_of, query):
    root = make_project({
        "pyproject.toml": '[tool.testwatch]\nmax_output = "100 MB"\n',
        "tests/test_loud.py": HUGE_OUTPUT_SUITE,
    })
    done = cli("run", str(root))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = query(history_of(root), "select nodeid, outcome, length(stdout), "
                 "stdout like '%characters cut by testwatch%' from results order by id")
    assert [row[:2] for row in rows] == [
        ("tests/test_loud.py::test_prints_70_mb", "passed"), ("tests/test_loud.py::test_after", "passed"),
    ]
    stdout_chars, cut = rows[0][2], rows[0][3]
    assert cut and 1_000_000 < stdout_chars < 70_000_000
