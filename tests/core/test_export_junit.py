"""``testwatch export --format junit``: a real run (every outcome, hostile output) written as JUnit
XML and validated against the junit-10.xsd that Jenkins-style readers and pytest's own tests use
(vendored beside this file with its license)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from tests.conftest import run_cli, write_files

SCHEMA = Path(__file__).with_name("junit-10.xsd")
FILES = {
    "tests/test_outcomes.py": r"""
        import os
        import sys
        import time
        import pytest

        @pytest.fixture
        def broken():
            raise RuntimeError("fixture broke")

        def test_passes():
            pass

        def test_fails_with_hostile_output():
            print("bell\x07 escape\x1b[31mred\x1b[0m nul\x00 end ]]> <script>&amp;")
            sys.stdout.flush()
            os.write(1, b"undecodable \xff\xfe bytes\n")
            assert "<b>" == "\x0c&\"'"

        def test_errors(broken):
            pass

        @pytest.mark.skip(reason="no <network> & no \x1b luck")
        def test_skipped():
            pass

        @pytest.mark.xfail(reason="known bug")
        def test_xfails():
            assert 0

        @pytest.mark.xfail(reason="fixed already")
        def test_xpasses():
            pass

        @pytest.mark.parametrize("value", ["a b", "]]>"])
        def test_param(value):
            pass

        class TestGroup:
            def test_in_class(self):
                pass

        def test_crashes():
            os._exit(3)

        def test_times_out():
            time.sleep(30)
    """,
}
OUTCOME_CHILD = {
    "test_passes": None,
    "test_fails_with_hostile_output": "failure",
    "test_errors": "error",
    "test_skipped": "skipped",
    "test_xfails": "skipped",
    "test_xpasses": "skipped",
    "test_param[a b]": None,
    "test_param[]]>]": None,
    "test_in_class": None,
    "test_crashes": "error",
    "test_times_out": "failure",
}


@pytest.fixture(scope="module")
def junit_xml(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("junit") / "project"
    write_files(root, FILES)
    ran = run_cli("run", str(root), "--timeout", "2", env={"TESTWATCH_MACHINE": "ci-box"})
    assert ran.returncode == 1, ran.stdout + ran.stderr
    out = root.parent / "report.xml"
    exported = run_cli("export", str(root), "--format", "junit", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    return out


def test_the_export_is_valid_against_the_junit_schema(junit_xml):
    xmlschema.XMLSchema(SCHEMA).validate(str(junit_xml))


def test_every_test_is_a_testcase_with_its_outcome_child(junit_xml):
    suites = ET.parse(junit_xml).getroot()
    assert suites.tag == "testsuites"
    (suite,) = suites
    assert suite.get("name") == suite.get("file") == "tests/test_outcomes.py"
    assert suite.get("hostname") == "ci-box"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == set(OUTCOME_CHILD)
    for name, child in OUTCOME_CHILD.items():
        found = [element.tag for element in cases[name] if element.tag in ("failure", "error", "skipped")]
        assert found == ([child] if child else []), name
        assert float(cases[name].get("time")) >= 0
    assert cases["test_in_class"].get("classname") == "tests.test_outcomes.TestGroup"
    assert cases["test_passes"].get("classname") == "tests.test_outcomes"
    counts = {key: suite.get(key) for key in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": "11", "failures": "2", "errors": "2", "skipped": "3"}
    assert {key: suites.get(key) for key in ("tests", "failures", "errors")} == {
        "tests": "11",
        "failures": "2",
        "errors": "2",
    }


def test_messages_and_tracebacks_are_kept_and_output_is_escaped_data(junit_xml):
    text = junit_xml.read_text(encoding="utf-8")
    for raw in ("\x07", "\x1b", "\x00", "\x0c", "<script>", "<b>", "<network>"):
        assert raw not in text  # neither raw control characters nor markup from the tests
    cases = {case.get("name"): case for case in ET.parse(junit_xml).getroot().iter("testcase")}
    failure = cases["test_fails_with_hostile_output"].find("failure")
    assert failure.get("message").startswith("assert '<b>' == ")  # the E line pytest printed
    assert "def test_fails_with_hostile_output():" in failure.text  # the traceback, whole
    assert "tests/test_outcomes.py:" in failure.text
    output = cases["test_fails_with_hostile_output"].find("system-out").text
    assert r"bell\x07 escape\x1b[31mred\x1b[0m nul\x00 end ]]> <script>&amp;" in output
    assert "undecodable" in output
    assert "fixture broke" in cases["test_errors"].find("error").text
    assert cases["test_skipped"].find("skipped").get("message") == r"no <network> & no \x1b luck"
    assert cases["test_xfails"].find("skipped").get("message") == "known bug"
    crash = cases["test_crashes"].find("error")
    assert crash.get("type") == "crashed" and "exit code 3" in crash.get("message")
    timeout = cases["test_times_out"].find("failure")
    assert timeout.get("type") == "timeout" and timeout.get("message").startswith("timed out after 2 s")


def test_junit_writes_one_run(tmp_path, junit_xml):
    root = junit_xml.parent / "project"
    result = run_cli("export", str(root), "--format", "junit", "--since", "1d")
    assert result.returncode == 4
    assert "--format junit writes one run: use --run N, not --since" in result.stderr
