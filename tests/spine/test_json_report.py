"""pytest-json-report: the passthrough gains testwatch's figures, and the export speaks its format."""

from __future__ import annotations

import json
import subprocess
import sys

PROJECT = {
    "tests/test_mixed.py": """
        import logging
        import pytest

        def test_pass(json_metadata):
            json_metadata["owner"] = "alice"
            logging.getLogger("shop").warning("stock low")
            print("to stdout")
            assert bytearray(5_000_000)

        def test_fail():
            assert [1, 2] == [1, 3]

        @pytest.fixture
        def broken():
            raise KeyError("missing")

        def test_error(broken):
            pass

        def test_skip():
            pytest.skip("later")

        @pytest.mark.xfail
        def test_xfail():
            assert False
    """,
    "tests/test_broken.py": "import not_a_module\n",
}


def _pytest_json_report(root, tmp_path) -> dict:
    """What pytest-json-report itself writes for the project."""
    target = tmp_path / "reference.json"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--json-report",
         f"--json-report-file={target}", "--continue-on-collection-errors"],
        cwd=root, capture_output=True, timeout=120,
    )
    return json.loads(target.read_text())


def test_passthrough_report_gains_figures_and_metadata_lands_in_history(make_project, cli, tw, tmp_path):
    root = make_project(PROJECT)
    report_file = tmp_path / "report.json"
    done = cli("run", str(root), "--", "--json-report", f"--json-report-file={report_file}")
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(report_file.read_text())
    tests = {test["nodeid"]: test for test in report["tests"]}
    passed = tests["tests/test_mixed.py::test_pass"]
    assert passed["metadata"]["owner"] == "alice"
    assert passed["metadata"]["testwatch"]["peak_rss_bytes"] >= 0
    row = tw.newest_results(root)["tests/test_mixed.py::test_pass"]
    assert json.loads(row["metadata"])["owner"] == "alice"


def test_export_matches_what_pytest_json_report_writes(make_project, cli, tmp_path):
    root = make_project(PROJECT)
    reference = _pytest_json_report(root, tmp_path)
    cli("run", str(root))
    done = cli("export", str(root), "--format", "json-report")
    assert done.returncode == 0, done.stderr
    exported = json.loads(done.stdout)
    assert set(reference) - {"warnings"} <= set(exported)
    assert exported["exitcode"] == reference["exitcode"] == 1
    assert exported["root"] == str(root)
    for key in ("passed", "failed", "error", "skipped", "xfailed", "total", "collected"):
        assert exported["summary"].get(key) == reference["summary"].get(key), key
    expected = {test["nodeid"]: test for test in reference["tests"]}
    ours = {test["nodeid"]: test for test in exported["tests"]}
    assert set(ours) == set(expected)
    for nodeid, test in ours.items():
        theirs = expected[nodeid]
        assert (test["outcome"], test["lineno"]) == (theirs["outcome"], theirs["lineno"]), nodeid
        assert set(test["keywords"]) <= set(theirs["keywords"]), nodeid
        for stage in ("setup", "call", "teardown"):
            if stage in theirs:
                assert test[stage]["outcome"] == theirs[stage]["outcome"], (nodeid, stage)
                assert ("longrepr" in test[stage]) == ("longrepr" in theirs[stage]), (nodeid, stage)
    failed_call = ours["tests/test_mixed.py::test_fail"]["call"]
    assert failed_call["crash"]["path"].endswith("test_mixed.py")
    reference_crash = expected["tests/test_mixed.py::test_fail"]["call"]["crash"]
    assert failed_call["crash"]["lineno"] == reference_crash["lineno"]
    passed_call = ours["tests/test_mixed.py::test_pass"]["call"]
    assert passed_call["stdout"] == "to stdout\n"
    assert passed_call["log"][0]["msg"] == "stock low" and passed_call["log"][0]["levelname"] == "WARNING"
    assert ours["tests/test_mixed.py::test_pass"]["metadata"]["testwatch"]["peak_rss_bytes"] >= 0
    (collector,) = exported["collectors"]
    assert collector["nodeid"] == "tests/test_broken.py" and "not_a_module" in collector["longrepr"]
    assert collector["outcome"] == "failed"
