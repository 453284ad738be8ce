"""Thresholds in pyproject, breaches in the history and in ``testwatch run``, and the
``testwatch check`` gate, on real projects."""

from __future__ import annotations

SLOW_AND_FAST = {
    "tests/test_speed.py": """
        import time

        import pytest


        def test_fast():
            pass


        def test_slow():
            time.sleep(0.6)


        @pytest.mark.slow
        def test_slow_but_allowed():
            time.sleep(0.6)
    """,
}


def _pyproject(limits: str) -> str:
    return f"""
        [tool.pytest.ini_options]
        markers = ["slow"]

        [tool.testwatch.thresholds]
        {limits}

        [tool.testwatch.thresholds.markers.slow]
        call_duration = "30 s"
    """


def test_breaches_are_printed_stored_and_fail_the_gate(make_project, cli, rows):
    root = make_project({**SLOW_AND_FAST, "pyproject.toml": _pyproject('call_duration = "0.3 s"')})
    done = cli("check", str(root))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "call_duration" in done.stdout and "test_slow" in done.stdout
    breaches = rows(root, "select * from breaches")
    assert [b["nodeid"] for b in breaches] == ["tests/test_speed.py::test_slow"]
    assert breaches[0]["kind"] == "call_duration" and breaches[0]["limit_value"] == 0.3
    assert breaches[0]["value"] >= 0.6
    shown = cli("run", str(root))
    breach_lines = [line for line in shown.stdout.splitlines() if line.startswith("BREACH")]
    assert len(breach_lines) == 1 and breach_lines[0].endswith("tests/test_speed.py::test_slow")
    assert breach_lines[0].startswith("BREACH  call_duration")


def test_the_gate_passes_when_nothing_is_breached(make_project, cli):
    root = make_project({**SLOW_AND_FAST, "pyproject.toml": _pyproject('call_duration = "5 s"')})
    done = cli("check", str(root))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: every test passed" in done.stdout


def test_check_last_reads_the_recorded_run_and_fails_on_failed_tests(make_project, cli):
    root = make_project({"tests/test_a.py": "def test_bad():\n    assert 1 == 2\n"})
    assert cli("check", str(root), "--last").returncode == 4  # no run yet: a clear usage error
    cli("run", str(root))
    done = cli("check", str(root), "--last")
    assert done.returncode == 1
    assert "failed" in done.stdout and "tests/test_a.py::test_bad" in done.stdout


def test_coverage_thresholds_are_skipped_with_a_note_without_coverage_rows(make_project, cli):
    root = make_project({
        "tests/test_a.py": "def test_ok():\n    pass\n",
        "pyproject.toml": """
            [tool.testwatch]
            coverage = false

            [tool.testwatch.thresholds]
            coverage = 80
        """,
    })
    done = cli("check", str(root))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no coverage data" in done.stdout


def test_a_bad_threshold_names_the_key(make_project, cli):
    root = make_project({
        "tests/test_a.py": "def test_ok():\n    pass\n",
        "pyproject.toml": '[tool.testwatch.thresholds]\npeak_memory = "lots"\n',
    })
    done = cli("check", str(root))
    assert done.returncode == 4
    assert "peak_memory" in done.stderr and "pyproject.toml" in done.stderr
