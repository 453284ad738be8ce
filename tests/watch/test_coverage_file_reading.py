"""The engine reads a coverage.py data file with a context per test through SQL: it must find
exactly what coverage.py's own reader finds, for every file and context."""

from __future__ import annotations

import random
import sqlite3

from coverage import CoverageData
from coverage.numbits import nums_to_numbits

from testwatch.select.dep_reading import lines_by_context, numbits_to_lines


def test_numbits_decode_as_coverage_py_encodes_them():
    chances = random.Random(13)
    sets = [[], [0], [1], [7, 8], [1, 2, 3, 4096], sorted(chances.sample(range(1, 5000), 600))]
    for numbers in sets:
        assert numbits_to_lines(nums_to_numbits(numbers)) == numbers


def test_a_data_file_reads_as_coverage_py_reads_it(tmp_path):
    path = tmp_path / "cov.123"
    data = CoverageData(basename=str(path))
    chances = random.Random(7)
    files = [str(tmp_path / f"m{i}.py") for i in range(4)]
    data.set_context("")
    data.add_lines({files[0]: [1, 2, 3]})
    for test in range(30):
        data.set_context(f"tests/test_m.py::test_{test}")
        data.add_lines({
            name: chances.sample(range(1, 400), chances.randint(1, 40))
            for name in chances.sample(files[:3], 2)
        })
    data.touch_files([files[3]])  # measured, never run
    data.write()

    read = lines_by_context(path)

    reference = CoverageData(basename=str(path))
    reference.read()
    assert sorted(read["files"]) == sorted(reference.measured_files())
    expected: dict[str, dict[str, set[int]]] = {}
    for name in reference.measured_files():
        for line, contexts in reference.contexts_by_lineno(name).items():
            for context in contexts:
                expected.setdefault(context, {}).setdefault(name, set()).add(line)
    found = {
        context: {read["files"][int(index)]: set(lines) for index, lines in by_index.items()}
        for context, by_index in read["lines"].items()
    }
    assert found == expected


def test_branch_data_is_left_to_coverage_py(tmp_path):
    path = tmp_path / "cov.124"
    data = CoverageData(basename=str(path))
    data.add_arcs({str(tmp_path / "m.py"): [(-1, 1), (1, 2), (2, -1)]})
    data.write()
    assert lines_by_context(path) is None


def test_a_schema_this_reader_does_not_know_is_left_to_coverage_py(tmp_path):
    """The data file's schema is coverage.py's own: a coverage.py 8 may write another one."""
    path = tmp_path / "cov.125"
    data = CoverageData(basename=str(path))
    data.set_context("tests/test_m.py::test_one")
    data.add_lines({str(tmp_path / "m.py"): [1, 2]})
    data.write()
    assert lines_by_context(path) is not None
    with sqlite3.connect(path) as conn:
        conn.execute("update coverage_schema set version = version + 1")
    assert lines_by_context(path) is None
    path.write_bytes(b"not a database")
    assert lines_by_context(path) is None
