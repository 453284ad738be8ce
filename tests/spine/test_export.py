"""``testwatch export`` on real histories: CSV safety and round trips, JSON, filters, json-report."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys

import pytest

from testwatch.history.csv_cells import neutralise

HOSTILE = {
    "tests/test_cells.py": """
        import pytest

        @pytest.mark.parametrize("text", ["=1+2", "+SUM(A1)", "-2+3", "@cmd"])
        def test_prints(text):
            print(text, end="")

        def test_tab():
            print("\\t=HYPERLINK(1)", end="")

        def test_negative_text():
            print("-12.5", end="")

        def test_ünïcødé():
            print('ünïcødé ✓ 日本語, "quoted"\\nsecond line', end="")
    """,
}


def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_formula_cells_are_neutralised_and_unicode_round_trips(make_project, cli, tmp_path):
    root = make_project(HOSTILE)
    cli("run", str(root))
    done = cli("export", str(root))
    assert done.returncode == 0, done.stderr
    rows = {row["nodeid"]: row for row in _csv_rows(done.stdout)}
    stdout = {nodeid.split("::", 1)[1]: row["stdout"] for nodeid, row in rows.items()}
    assert stdout["test_prints[=1+2]"] == "'=1+2"
    assert stdout["test_prints[+SUM(A1)]"] == "'+SUM(A1)"
    assert stdout["test_prints[-2+3]"] == "'-2+3"
    assert stdout["test_prints[@cmd]"] == "'@cmd"
    assert stdout["test_tab"] == "'\t=HYPERLINK(1)"
    assert stdout["test_negative_text"] == "-12.5"  # a number stays a number
    assert stdout["test_ünïcødé"] == 'ünïcødé ✓ 日本語, "quoted"\nsecond line'

    for row in rows.values():
        assert float(row["duration_s"]) >= 0 and int(row["run_id"]) == 1 and row["outcome"] == "passed"
    assert done.stdout.startswith("id,run_id,nodeid,")
    target = tmp_path / "results.csv"
    cli("export", str(root), "-o", str(target))
    raw = target.read_bytes()
    assert raw.count(b"\r\n") == len(rows) + 1  # RFC 4180 line ends; the newline inside a cell is kept
    assert _csv_rows(raw.decode("utf-8")) == list(rows.values())


def test_neutralise_keeps_numbers_and_quotes_formulas():
    for number in ("-1", "-1.5", "+3", "1e-05", "-2E+3", ".5"):
        assert neutralise(number) == number
    assert neutralise(-3.25) == -3.25 and neutralise(None) is None
    for formula in ("=A1", "-A1", "+1+1", "@x", "\tx", "\rx", "-1-1"):
        assert neutralise(formula) == "'" + formula


def test_negative_numbers_in_a_real_table_stay_numbers(make_project, cli, tw):
    root = make_project({"tests/test_ok.py": "def test_ok():\n    pass\n"})
    cli("run", str(root))
    conn = sqlite3.connect(tw.history_db(root))
    with conn:
        conn.execute("insert into breaches (run_id, nodeid, kind, value, limit_value) "
                     "values (1, '=cmd|calc', 'peak', -2.5, -1)")
    conn.close()
    done = cli("export", str(root), "--table", "breaches")
    (row,) = _csv_rows(done.stdout)
    assert (row["value"], row["limit_value"], row["nodeid"]) == ("-2.5", "-1.0", "'=cmd|calc")


def test_json_and_filters_and_output_file(make_project, cli, tmp_path):
    root = make_project({"tests/test_ok.py": "def test_ok():\n    print('x')\n"})
    for _ in range(3):
        cli("run", str(root))
    done = cli("export", str(root), "--table", "results", "--format", "json", "--run", "2")
    (row,) = json.loads(done.stdout)
    assert (row["run_id"], row["nodeid"], row["outcome"], row["stdout"]) == (2, "tests/test_ok.py::test_ok",
                                                                            "passed", "x\n")
    runs = json.loads(cli("export", str(root), "--table", "runs", "--format", "json").stdout)
    assert [run["id"] for run in runs] == [1, 2, 3] and runs[0]["args"] == []
    recent = _csv_rows(cli("export", str(root), "--since", "1h").stdout)
    assert sorted(int(row["run_id"]) for row in recent) == [1, 2, 3]
    assert _csv_rows(cli("export", str(root), "--since", "2999-01-01").stdout) == []
    target = tmp_path / "out.csv"
    assert cli("export", str(root), "--table", "runs", "-o", str(target)).returncode == 0
    assert [row["id"] for row in _csv_rows(target.read_text(encoding="utf-8"))] == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run", "9"], "has no run 9 (runs 1 to 1)"),
        (["--since", "soon"], "--since 'soon'"),
        (["--since", "30m"], "--since: the unit 'm' in '30m' is ambiguous: write min for minutes"),
        (["--format", "json-report", "--since", "1d"], "use --run N, not --since"),
        (["--workers", "0"], "--workers 0: expected 1 or more"),
    ],
)
def test_bad_requests_are_one_clear_sentence(make_project, cli, args, message):
    root = make_project({"tests/test_ok.py": "def test_ok():\n    pass\n"})
    cli("run", str(root))
    done = cli("export", str(root), *args)
    assert done.returncode == 4 and message in done.stderr and "Traceback" not in done.stderr


def test_no_history_yet_is_a_clear_message_and_creates_nothing(make_project, cli):
    root = make_project({"tests/test_ok.py": "def test_ok():\n    pass\n"})
    done = cli("export", str(root))
    assert done.returncode == 4 and "no history at" in done.stderr
    assert not (root / ".testwatch").exists()


def test_closed_pipe_is_not_an_error(make_project, cli):
    root = make_project({"tests/test_ok.py": "import pytest\n\n@pytest.mark.parametrize('n', range(300))\n"
                                             "def test_ok(n):\n    print('y' * 500)\n"})
    cli("run", str(root))
    export = subprocess.Popen([sys.executable, "-m", "testwatch", "export", str(root)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    export.stdout.readline()
    export.stdout.close()
    # Quietly, with what a shell reports for a command a closed pipe ended (every command does).
    assert export.wait(timeout=60) == 141
    assert export.stderr.read() == b""
