"""What the history knows about tests, for a selection: each known test (a newest result in
``latest_results``, or recorded dependencies in ``dep_owners``) by file, the ones that failed last
time, each owner's dependency count, the stale paths (``dep_index``) and durations on demand."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from testwatch.history import dep_index
from testwatch.model.results import BAD_OUTCOMES, nodeid_file


@dataclass
class KnownTests:
    """The tests the history knows (a newest result, or recorded dependencies) and how."""

    tests: set[str]
    failed: dict[str, str]  # test (or test file that failed to collect) -> its bad outcome last time
    counts: dict[str, int]  # owner (test or test file) -> recorded dependencies
    stale: set[str]  # paths whose rows must be compared (dep_index)
    tests_by_file: dict[str, list[str]]
    files_seen: set[str]  # test files of known tests, and test files with recorded dependencies
    all_durations: dict[str, float | None] | None = None  # read once, when many tests are picked

    @classmethod
    def read(cls, conn, root: Path) -> KnownTests:
        """Everything but durations, from latest_results, dep_owners and stale_dep_paths."""
        # Grouped by file in SQLite: twice as fast as splitting 50,000 node ids in Python.
        by_file = (
            "select substr(nodeid, 1, instr(nodeid, '::') - 1), group_concat(nodeid, char(0)) "
            "from latest_results where instr(nodeid, '::') > 0 group by 1"
        )
        tests_by_file = {test_file: ids.split("\0") for test_file, ids in conn.execute(by_file)}
        tests: set[str] = set().union(*tests_by_file.values())
        marks = ",".join("?" * len(BAD_OUTCOMES))
        failed = dict(conn.execute(
            f"select nodeid, outcome from latest_results where outcome in ({marks})", sorted(BAD_OUTCOMES)
        ))
        for nodeid in [n for n in failed if "::" not in n]:
            if (root / nodeid).is_file():
                tests.add(nodeid)  # a file that failed to collect
                tests_by_file.setdefault(nodeid, []).append(nodeid)
            else:
                del failed[nodeid]
        counts = dep_index.owner_counts(conn)
        rest = counts.keys() - tests  # test files, and tests with dependencies but no result
        for owner in rest:
            if "::" in owner:
                tests.add(owner)
                tests_by_file.setdefault(nodeid_file(owner), []).append(owner)
        files_seen = set(tests_by_file) | {owner for owner in rest if "::" not in owner}
        return cls(tests, failed, counts, dep_index.stale_paths(conn), tests_by_file, files_seen)

    def durations(self, conn, nodeids) -> dict[str, float | None]:
        """Each test's duration in its newest result (all tests', kept, when many are asked)."""
        if len(nodeids) > 2000:
            if self.all_durations is None:
                self.all_durations = dict(conn.execute("select nodeid, duration_s from latest_results"))
            return self.all_durations
        ordered = list(nodeids)
        found: dict[str, float | None] = {}
        for i in range(0, len(ordered), 500):
            chunk = ordered[i : i + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"select nodeid, duration_s from latest_results where nodeid in ({marks})"
            found.update(conn.execute(sql, chunk))
        return found
