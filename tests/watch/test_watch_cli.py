"""``testwatch watch --headless`` as a user runs it: a line per change, selection and result."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap


@contextlib.contextmanager
def headless_watch(root, log):
    """The real ``testwatch watch --headless`` with its output in ``log``; Ctrl-C at the end."""
    env = {k: v for k, v in os.environ.items() if k != "TESTWATCH_DB"}
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "testwatch", "watch", str(root), "--headless"],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def test_headless_watch_prints_changes_and_results(sample, edit, wait_for, tmp_path):
    log = tmp_path / "watch.log"
    with headless_watch(sample, log) as process:
        wait_for(lambda: "waiting for changes" in log.read_text())
        edit(sample / "calc/core.py", "return -x", "return x")
        wait_for(lambda: "waiting for changes" in log.read_text().partition("FAIL")[2])
    text = log.read_text()
    assert process.returncode == 2, text  # interrupted, as pytest says it
    assert "changed: calc/core.py" in text
    assert "selected 1 of 3" in text
    assert "tests/test_core.py::test_negate" in text.split("changed: calc/core.py")[-1]


def test_results_first_prints_a_failure_once_then_its_recording_run_briefly(sample, edit, wait_for, tmp_path):
    with (sample / "pyproject.toml").open("a") as config:
        config.write("\n[tool.testwatch]\nresults_first = true\n")
    log = tmp_path / "watch.log"
    with headless_watch(sample, log):
        wait_for(lambda: "waiting for changes" in log.read_text())
        edit(sample / "calc/core.py", "return -x", "return x")
        wait_for(lambda: "waiting for changes" in log.read_text().partition("(record)")[2])
    after_edit = log.read_text().split("changed: calc/core.py")[-1]
    change, _, recording = after_edit.partition("(record): 1 test\n")
    assert "(change): 1 test" in change and "assert 3 == -3" in change, change
    assert change.count("tests/test_core.py::test_negate") == 3, change  # result, traceback, summary
    # The same failure again: its line and the run's summary, no traceback.
    assert recording.count("tests/test_core.py::test_negate") == 1 and "FAIL " in recording, recording
    assert "assert 3 == -3" not in recording and "1 failed in" in recording, recording


def test_watch_modules_never_import_textual():
    code = (
        "import sys, testwatch.run.watch_loop, testwatch.cli.commands.watch, "
        "testwatch.cli.commands.affected, "
        "testwatch.collectors.in_pytest.deps_plugin, testwatch.collectors.in_testwatch.file_watcher; "
        "print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_output_redirected_into_the_project_does_not_feed_the_watcher(sample, wait_for):
    # `testwatch watch --headless > watch.log` in the project: each line written is a change of
    # watch.log, which printed "changed: watch.log", which was a change, without end.
    log = sample / "watch.log"
    with headless_watch(sample, log):
        wait_for(lambda: "waiting for changes" in log.read_text())
        (sample / "notes.txt").write_text("a file of the project changes too\n")
        wait_for(lambda: "changed: notes.txt" in log.read_text())
    assert "changed: watch.log" not in log.read_text()


TOUCHING_TEST = """
    import os
    from pathlib import Path

    DATA = Path(__file__).parent.parent / "calc" / "data.json"


    def test_reads_then_touches():
        text = DATA.read_text()
        os.utime(DATA)  # as jinja2 3.1.6's test_caches_template_based_on_mtime
        assert '"offset": 10' in text
"""


def test_a_test_touching_a_file_it_reads_does_not_restart_its_run(sample, edit, wait_for, tmp_path):
    # Once it failed, each run of it touched the file, the change cancelled the run and started
    # it again: the run never ended (found on jinja2 3.1.6 after an edit of a template).
    (sample / "tests" / "test_touch.py").write_text(textwrap.dedent(TOUCHING_TEST))
    log = tmp_path / "watch.log"
    with headless_watch(sample, log):
        wait_for(lambda: "waiting for changes" in log.read_text())
        before_edit = len(log.read_text())
        edit(sample / "calc/data.json", "10", "11")
        wait_for(lambda: "waiting for changes" in log.read_text()[before_edit:].partition("FAIL")[2],
                 timeout_s=60)
        after_edit = log.read_text()[before_edit:]
    assert "tests/test_touch.py::test_reads_then_touches" in after_edit
    assert "cancelled" not in after_edit, after_edit
