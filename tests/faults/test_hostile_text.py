"""Scenario 3 (storage and headless output): test ids, messages and output that look like markup,
carry control characters or invalid text, or are huge, are stored and printed literally."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_files

HOSTILE_TESTS = r'''
import sys
import pytest

MARKUP = "[red]red[/] [/] [/tmp/x] [bold [nested] unclosed [link=x"


@pytest.mark.parametrize("case", ["case_a", "[red]", "[/]", "[/tmp/x]", "[[nested]", "esc\x1b[31m"])
def test_x(case):
    pass


def test_markup_message():
    print(MARKUP)
    assert False, MARKUP


def test_control_characters():
    print("ansi \x1b[31mred\x1b[0m, carriage\rreturn, nul\x00byte, bell\x07")
    sys.stdout.flush()
    sys.stdout.buffer.write(b"invalid utf-8: \xff\xfe\xc3(\n")
    assert False, "message with \x1b[2J clear-screen and \x00 nul"


def test_lone_surrogate():
    print("surrogate \ud800 out")
    assert False, "surrogate \udcff message"


def test_huge_output():
    sys.stdout.write("x" * 10_000_000)


def test_after():
    pass
'''


def _hostile_project(root: Path) -> Path:
    write_files(root, {
        "pyproject.toml": '[tool.testwatch]\nmax_output = "4 KiB"\n',
        "tests/test_hostile.py": HOSTILE_TESTS,
    })
    return root


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """One ``testwatch run`` of the hostile project, shared by the checks below."""
    root = _hostile_project(tmp_path_factory.mktemp("hostile"))
    return root, run_cli("run", str(root), timeout=120)


def test_hostile_text_is_stored_and_printed_literally(hostile_run, history_of, outcomes):
    root, done = hostile_run
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr

    stored = outcomes(history_of(root))
    ids = ["case_a", "[red]", "[/]", "[/tmp/x]", "[[nested]", "esc\\x1b[31m"]
    for case in ids:
        assert stored[f"tests/test_hostile.py::test_x[{case}]"] == "passed"
        # Printed as the id itself: brackets kept, no escape character reaches the terminal.
        assert f"test_x[{case}]\n" in done.stdout
    assert stored["tests/test_hostile.py::test_markup_message"] == "failed"
    assert stored["tests/test_hostile.py::test_control_characters"] == "failed"
    assert stored["tests/test_hostile.py::test_lone_surrogate"] == "failed"
    assert stored["tests/test_hostile.py::test_huge_output"] == "passed"
    assert stored["tests/test_hostile.py::test_after"] == "passed"

    # The terminal gets no raw control characters: they are shown as \x.. escapes.
    for raw in ("\x1b", "\x00", "\x07", "\r"):
        assert raw not in done.stdout
    assert "\\x1b[2J clear-screen" in done.stdout
    assert "[red]red[/] [/] [/tmp/x] [bold [nested] unclosed [link=x" in done.stdout


def test_hostile_output_is_kept_byte_for_byte_and_capped(hostile_run, history_of, query):
    root, _ = hostile_run
    db = history_of(root)
    rows = dict(query(db, "select nodeid, stdout from results"))
    prefix = "tests/test_hostile.py::"
    markup = "[red]red[/] [/] [/tmp/x] [bold [nested] unclosed [link=x"
    assert rows[prefix + "test_markup_message"] == markup + "\n"
    control = rows[prefix + "test_control_characters"]
    assert "ansi \x1b[31mred\x1b[0m, carriage\rreturn, nul\x00byte, bell\x07" in control
    assert "invalid utf-8: " in control  # undecodable bytes arrive as replacement characters
    surrogate_out = rows[prefix + "test_lone_surrogate"]
    assert surrogate_out.startswith("surrogate ") and surrogate_out.endswith(" out\n")
    longrepr = dict(query(db, "select nodeid, longrepr from results"))
    assert "surrogate \\udcff message" in longrepr[prefix + "test_lone_surrogate"]
    huge = rows[prefix + "test_huge_output"]
    assert 4096 <= len(huge) < 5000, len(huge)
    assert "characters cut by testwatch" in huge
    assert query(db, "pragma integrity_check") == [("ok",)]


def test_json_output_stays_valid_json(tmp_path, cli):
    root = _hostile_project(tmp_path)
    done = cli("run", str(root), "--json", timeout=120)
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    finished = [e["result"]["nodeid"] for e in events if e["event"] == "TestFinished"]
    assert "tests/test_hostile.py::test_x[[/tmp/x]]" in finished
    assert len(finished) == 11
    assert events[-1]["event"] == "RunFinished"
