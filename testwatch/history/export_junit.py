"""Write one run of the history as JUnit XML, the report CI systems render (Jenkins, GitLab, GitHub's
test reporters), valid against the junit-10.xsd those tools and pytest's own tests read.

``testsuites`` holds a ``testsuite`` per test file (its path in ``name`` and ``file``: the schema
has no ``file`` on a testcase, and pytest's own xunit2 report leaves it out too), each holding a
``testcase`` per test (``classname`` the dotted module and classes, ``name``, ``time`` in seconds).
A bad outcome adds a ``failure`` (failed, timeout) or an ``error`` (error, crashed) child, and a
skipped, xfailed or xpassed test a ``skipped`` child, with the report's headline as ``message`` and
its whole text inside; captured output follows in ``system-out`` and ``system-err``.

Test output is data: it is escaped, and characters XML 1.0 cannot hold (control characters, lone
surrogates from undecodable bytes) are written as ``\\xNN`` text, as Python would show them.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections import Counter
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

from testwatch.model.failure_text import headline
from testwatch.model.results import nodeid_file

# outcome -> (child element, its message when the report has none); a passed test has no child.
_CHILDREN = {
    "failed": ("failure", "failed"),
    "timeout": ("failure", "timed out"),
    "error": ("error", "error"),
    "crashed": ("error", "crashed: the test's process died"),
    "skipped": ("skipped", "skipped"),
    "xfailed": ("skipped", "expected failure"),
    "xpassed": ("skipped", "xfail-marked test passes unexpectedly"),  # pytest's words for it
}
_COUNTED = {"failure": "failures", "error": "errors", "skipped": "skipped"}
# Everything XML 1.0 allows (its Char production); the rest is written as an escape.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_ENTITIES = {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
_SUITE_KEY = (
    "case when instr(nodeid, '::') > 0 then substr(nodeid, 1, instr(nodeid, '::') - 1) else nodeid end"
)


def write_junit(conn: sqlite3.Connection, run_id: int, out: TextIO) -> int:
    """Write run ``run_id`` as a JUnit XML document to ``out``; returns the testcases written."""
    run = conn.execute("select machine, started_at, duration_s from runs where id = ?", [run_id]).fetchone()
    machine, started_at, duration_s = run
    totals: Counter[str] = Counter()
    for outcome, count in conn.execute(
        "select outcome, count(*) from results where run_id = ? group by outcome", [run_id]
    ):
        totals["tests"] += count
        child = _CHILDREN.get(outcome)
        if child:
            totals[_COUNTED[child[0]]] += count
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(
        _open_tag(
            "testsuites",
            {
                "name": f"testwatch run {run_id}",
                "tests": totals["tests"],
                "failures": totals["failures"],
                "errors": totals["errors"],
                "time": _seconds(duration_s),
            },
        )
        + "\n"
    )
    rows = conn.execute(
        "select nodeid, outcome, duration_s, longrepr, stdout, stderr, log from results "
        f"where run_id = ? order by {_SUITE_KEY}, id",
        [run_id],
    )
    written = 0
    for test_file, group in itertools.groupby(rows, key=lambda row: nodeid_file(row[0])):
        cases = list(group)
        _write_suite(out, test_file, cases, {"timestamp": started_at, "hostname": machine})
        written += len(cases)
    out.write("</testsuites>\n")
    return written


def _write_suite(out: TextIO, test_file: str, cases: list[tuple], run_fields: dict) -> None:
    counts = Counter(_COUNTED[_CHILDREN[case[1]][0]] for case in cases if case[1] in _CHILDREN)
    out.write(
        " "
        + _open_tag(
            "testsuite",
            {
                "name": test_file,
                "tests": len(cases),
                "failures": counts["failures"],
                "errors": counts["errors"],
                "skipped": counts["skipped"],
                "time": _seconds(sum(case[2] or 0.0 for case in cases)),
                **run_fields,
                "file": test_file,
            },
        )
        + "\n"
    )
    for case in cases:
        _write_case(out, *case)
    out.write(" </testsuite>\n")


def _write_case(
    out: TextIO,
    nodeid: str,
    outcome: str,
    duration_s: float | None,
    longrepr: str | None,
    stdout: str | None,
    stderr: str | None,
    log: str | None,
) -> None:
    classname, name = junit_names(nodeid)
    attributes = {"classname": classname, "name": name, "time": _seconds(duration_s)}
    parts = []
    if outcome in _CHILDREN:
        element, fallback = _CHILDREN[outcome]
        message = _message(longrepr or "", outcome) or fallback
        parts.append(_element(element, longrepr or "", {"message": message, "type": outcome}))
    output = "\n".join(text for text in (stdout, log) if text)
    if output:
        parts.append(_element("system-out", output))
    if stderr:
        parts.append(_element("system-err", stderr))
    if not parts:
        out.write("  " + _open_tag("testcase", attributes, empty=True) + "\n")
        return
    out.write("  " + _open_tag("testcase", attributes) + "\n")
    out.writelines(f"   {part}\n" for part in parts)
    out.write("  </testcase>\n")


def junit_names(nodeid: str) -> tuple[str, str]:
    """JUnit's ``classname`` and ``name`` for a node id, as pytest's JUnit XML makes them:
    ``tests/test_a.py::TestB::test_c[x]`` is ``tests.test_a.TestB`` and ``test_c[x]``. A file that
    failed to collect is named by its path."""
    test_file, *names = nodeid.split("::")
    module = test_file.removesuffix(".py").replace("/", ".")
    if not names:
        return module, test_file
    return ".".join([module, *names[:-1]]), names[-1]


def _message(longrepr: str, outcome: str) -> str:
    """A failure's or error's headline (its exception); for the others, whose report starts with
    the reason (a skip's or xfail's, what became of a crashed or timed-out test), the first line."""
    if outcome in ("failed", "error"):
        return headline(longrepr)
    lines = [line.strip() for line in longrepr.splitlines() if line.strip()]
    return lines[0].removeprefix("Skipped: ") if lines else ""


def xml_text(text: str) -> str:
    """``text`` with what XML 1.0 cannot hold written as a Python-style escape (``\\x1b``)."""
    return _NOT_XML.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def _element(name: str, text: str, attributes: dict | None = None) -> str:
    return f"{_open_tag(name, attributes or {})}{escape(xml_text(text))}</{name}>"


def _open_tag(name: str, attributes: dict, empty: bool = False) -> str:
    pairs = "".join(
        f" {key}={quoteattr(xml_text(str(value)), _ATTRIBUTE_ENTITIES)}"
        for key, value in attributes.items()
        if value is not None
    )
    return f"<{name}{pairs}{' /' if empty else ''}>"


def _seconds(value: float | None) -> str:
    """Seconds as the schema's SUREFIRE_TIME: digits, a point and at most three decimals."""
    return f"{max(value or 0.0, 0.0):.3f}"
