"""A test's verdict from its phases, as pytest's own summary counts it."""

import pytest

from testwatch.model.outcome_labels import OUTCOME_LABELS
from testwatch.model.results import OUTCOMES, PhaseReport, ResultBuilder, outcome_of


def phases(**outcomes):
    return {when: PhaseReport(outcome, 0.01) for when, outcome in outcomes.items()}


@pytest.mark.parametrize(
    ("reported", "wasxfail", "expected"),
    [
        (dict(setup="passed", call="passed", teardown="passed"), False, "passed"),
        (dict(setup="passed", call="failed", teardown="passed"), False, "failed"),
        (dict(setup="failed", teardown="passed"), False, "error"),
        (dict(setup="skipped", teardown="passed"), False, "skipped"),
        (dict(setup="passed", call="skipped", teardown="passed"), True, "xfailed"),
        (dict(setup="passed", call="passed", teardown="passed"), True, "xpassed"),
        (dict(setup="passed", call="passed", teardown="failed"), False, "error"),
        (dict(setup="passed", call="failed", teardown="failed"), False, "failed"),
    ],
)
def test_outcome_of(reported, wasxfail, expected):
    assert outcome_of(phases(**reported), wasxfail) == expected


def test_builder_collects_sections_and_extras():
    builder = ResultBuilder("tests/test_a.py::test_x[a]", lineno=3)
    assert builder.add({"when": "setup", "outcome": "passed", "duration": 0.1}) is None
    assert builder.add({"when": "call", "outcome": "failed", "duration": 0.2,
                        "longrepr": "E assert [red]"}) is None
    result = builder.add({
        "when": "teardown", "outcome": "passed", "duration": 0.3,
        "sections": [["Captured stdout call", "out\n"], ["Captured stderr call", "err\n"],
                     ["Captured log call", "INFO x\n"]],
        "extra": {"peak_rss_bytes": 5}, "metadata": {"k": 1},
        "user_properties": [["prop", 2]],
    })
    assert result.outcome == "failed"
    assert result.longrepr == "E assert [red]"
    assert (result.stdout, result.stderr, result.log) == ("out\n", "err\n", "INFO x\n")
    assert result.sections == [("Captured stdout call", "out\n"), ("Captured stderr call", "err\n"),
                               ("Captured log call", "INFO x\n")]  # a failure's, titled, in order
    assert result.extra == {"peak_rss_bytes": 5}
    assert result.metadata == {"k": 1, "prop": 2}
    assert result.duration_s == pytest.approx(0.6)
    assert result.file == "tests/test_a.py"


def test_every_outcome_has_its_labels_in_order():
    assert tuple(OUTCOME_LABELS) == OUTCOMES


def test_a_passing_result_keeps_its_output_joined_not_its_sections():
    builder = ResultBuilder("tests/test_a.py::test_ok")
    builder.add({"when": "setup", "outcome": "passed", "duration": 0.0})
    builder.add({"when": "call", "outcome": "passed", "duration": 0.0})
    result = builder.add({"when": "teardown", "outcome": "passed", "duration": 0.0,
                          "sections": [["Captured stdout setup", "a\n"], ["Captured stdout call", "b\n"]]})
    assert result.outcome == "passed"
    assert result.stdout == "a\nb\n" and result.sections == []
