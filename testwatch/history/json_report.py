"""Write one run of the history as a pytest-json-report document, for tooling that reads that format.

Top level: created, duration, exitcode, root, environment, summary, collectors, tests. Each test:
nodeid, lineno (0-based, as pytest-json-report writes it), outcome, keywords, setup/call/teardown
stages (duration, outcome, crash, traceback, longrepr, stdout, stderr, log) and metadata.
testwatch's own outcomes ``crashed`` and ``timeout`` are written as ``failed`` (the format knows
no others) and kept in ``metadata.testwatch.outcome``; its per-test figures sit in
``metadata.testwatch`` as the live ``--json-report`` hook puts them. The history keeps a test's
captured output per test, not per phase, so it goes in the ``call`` stage (else the last one).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TextIO

from testwatch.model.failure_text import headline, locations
from testwatch.model.results import PHASES, nodeid_file

_FORMAT_OUTCOMES = {"crashed": "failed", "timeout": "failed"}
_FIGURE_COLUMNS = ("peak_rss_bytes", "peak_growth_bytes", "retained_bytes", "heap_peak_bytes", "leaked_bytes")
_LOG_LINE = re.compile(
    r"^(?P<level>[A-Z]+)\s+(?P<name>[^:\s]+):(?P<file>[^:\s]+):(?P<lineno>\d+) (?P<msg>.*)$"
)
_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


def write_json_report(conn: sqlite3.Connection, run_id: int, root: Path, out: TextIO) -> int:
    """Write run ``run_id`` as a pytest-json-report document to ``out``; returns the tests written."""
    conn.row_factory = sqlite3.Row
    try:
        run = conn.execute("select * from runs where id = ?", [run_id]).fetchone()
        head = {
            "created": _epoch_s(run["started_at"]),
            "duration": run["duration_s"] or 0.0,
            "exitcode": run["exit_status"],
            "root": str(root),
            "environment": _environment(run),
            "summary": _summary(conn, run_id, run["collected"]),
            "collectors": _collectors(conn, run_id),
        }
        opening = json.dumps(head, ensure_ascii=False, indent=1)
        out.write(opening[: opening.rindex("}")].rstrip() + ',\n "tests": [')
        count = 0
        for row in conn.execute("select * from results where run_id = ? order by id", [run_id]):
            if "::" not in row["nodeid"]:
                continue  # a collection error: listed under "collectors"
            out.write(",\n  " if count else "\n  ")
            out.write(json.dumps(test_record(row), ensure_ascii=False))
            count += 1
        out.write("\n ]\n}\n" if count else "]\n}\n")
        return count
    finally:
        conn.row_factory = None


def test_record(row: sqlite3.Row) -> dict:
    """One test of the report from its ``results`` row."""
    outcome = row["outcome"]
    record = {
        "nodeid": row["nodeid"],
        "lineno": row["lineno"] - 1 if row["lineno"] else 0,
        "outcome": _FORMAT_OUTCOMES.get(outcome, outcome),
        "keywords": keywords(row["nodeid"]),
    }
    stages = {p: {"duration": row[f"{p}_s"], "outcome": row[f"{p}_outcome"]} for p in PHASES
              if row[f"{p}_outcome"] is not None}
    if outcome in _FORMAT_OUTCOMES and not any(s["outcome"] == "failed" for s in stages.values()):
        stages["call"] = {"duration": 0.0, "outcome": "failed"}
    if row["longrepr"]:
        blamed = next((s for s in stages.values() if s["outcome"] != "passed"), None)
        if blamed is not None:
            _add_longrepr(blamed, row["longrepr"])
    if stages:
        captured = stages.get("call") or list(stages.values())[-1]
        for stream in ("stdout", "stderr"):
            if row[stream]:
                captured[stream] = row[stream]
        if row["log"]:
            captured["log"] = log_records(row["log"])
    record.update(stages)
    metadata = _loads(row["metadata"]) or {}
    figures = _loads(row["extra"]) or {}
    for column in _FIGURE_COLUMNS:
        if row[column] is not None:
            figures[column] = row[column]
    if outcome in _FORMAT_OUTCOMES:
        figures["outcome"] = outcome
    if figures:
        metadata = {**metadata, "testwatch": {**metadata.get("testwatch", {}), **figures}}
    if metadata:
        record["metadata"] = metadata
    return record


def keywords(nodeid: str) -> list[str]:
    """The keywords pytest would give the test, as far as its node id tells them."""
    file_part, *names = nodeid.split("::")
    words = list(reversed(names))
    path = Path(file_part)
    words += [path.name, *(part for part in reversed(path.parent.parts) if part not in ("", "."))]
    return words


def log_records(text: str) -> list[dict]:
    """Captured log text (pytest's default format) as the log records the format holds."""
    records = []
    for line in text.splitlines():
        match = _LOG_LINE.match(line)
        if match:
            records.append({
                "name": match["name"], "msg": match["msg"], "args": None,
                "levelname": match["level"], "levelno": _LEVELS.get(match["level"], 0),
                "filename": match["file"], "lineno": int(match["lineno"]),
            })
        elif records:
            records[-1]["msg"] += "\n" + line
        elif line.strip():
            records.append({"msg": line, "args": None})
    return records


def _add_longrepr(stage: dict, longrepr: str) -> None:
    stage["longrepr"] = longrepr
    frames = [{"path": at.path, "lineno": at.lineno, "message": at.message} for at in locations(longrepr)]
    if frames:
        stage["traceback"] = frames
        crash = dict(frames[-1])
        if message := headline(longrepr):
            crash["message"] = message
        stage["crash"] = crash


def _summary(conn: sqlite3.Connection, run_id: int, collected: int | None) -> dict:
    counts: Counter[str] = Counter()
    sql = "select outcome, count(*) from results where run_id = ? and nodeid like '%::%' group by outcome"
    for outcome, n in conn.execute(sql, [run_id]):
        counts[_FORMAT_OUTCOMES.get(outcome, outcome)] += n
    total = sum(counts.values())
    return {**counts, "total": total, "collected": collected if collected is not None else total}


def _collectors(conn: sqlite3.Connection, run_id: int) -> list[dict]:
    sql = "select nodeid, longrepr from results where run_id = ? and nodeid not like '%::%' order by id"
    return [
        {"nodeid": nodeid_file(nodeid), "outcome": "failed", "result": [], "longrepr": longrepr or ""}
        for nodeid, longrepr in conn.execute(sql, [run_id])
    ]


def _environment(run: sqlite3.Row) -> dict:
    environment = {"Python": run["python"], "testwatch run": run["id"], "git revision": run["git_revision"]}
    return {key: value for key, value in environment.items() if value is not None}


def _epoch_s(iso: str | None) -> float:
    return datetime.fromisoformat(iso).timestamp() if iso else 0.0


def _loads(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
