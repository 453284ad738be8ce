"""Rows to RFC 4180 CSV bytes a batch at a time, exactly as ``csv.writer`` writes them.

A batch goes through one %-template with stand-in separators (a C loop, no per-cell Python
code), then a few whole-batch searches find the rows that need care: a cell holding a comma, a
quote, a CR or LF (it must be quoted), or starting like a formula (``testwatch.history.csv_cells``).
A formula-like row goes through ``neutralise`` and ``csv.writer``; a row that only needs quotes
gets them around those cells; the rest get their real separators by two ``replace`` calls.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence

from testwatch.history.csv_cells import FORMULA_STARTS, neutralise

_LINE_END = "\r\n"
_ENCODING = "utf-8"
_ENCODING_ERRORS = "surrogateescape"
# Stand-ins for the comma and the line end while a batch is checked (ASCII unit and record
# separators). A batch whose data holds either one is written row by row, the careful way.
_CELL_SEP = "\x1f"
_ROW_END = "\x1e"
_ROW_END_BYTE = _ROW_END.encode()
_CELL_SEP_BYTE = _CELL_SEP.encode()
_LINE_END_BYTES = _LINE_END.encode()
_FORMULA_BYTES = tuple(start.encode() for start in FORMULA_STARTS)
# One byte-for-byte translation marks what needs care: \x02 for a byte that makes a cell need
# quotes, \x01 for a byte that starts a formula, \x1f for either separator. Data that already
# holds \x01 or \x02 only sends its row down the careful path, which is exact.
_MARKS = bytes.maketrans(b',"\r\n=+-@\t\x1e', b"\x02\x02\x02\x02\x01\x01\x01\x01\x01\x1f")
_QUOTE_NEEDLE = b"\x02"  # anywhere in a row: some cell needs quotes
# A cell starts like a formula: with \x01, or with \x02 as a CR does (the careful path decides).
_FORMULA_NEEDLES = (b"\x1f\x01", b"\x1f\x02")
_NEEDLES = (_QUOTE_NEEDLE, *_FORMULA_NEEDLES)


class _Lines(list):
    """A list that ``csv.writer`` can write into: each written line is appended."""

    write = list.append


class CsvBatchEncoder:
    """Turns batches of rows with ``column_count`` cells into CSV bytes (UTF-8).

    Cells are ``str``, ``int``, ``float`` or other values written with ``str()``, as
    ``csv.writer`` does; SQL NULLs must arrive as ``""`` (``ifnull(column, '')``), which is
    what ``csv.writer`` writes for ``None``.
    """

    def __init__(self, column_count: int) -> None:
        self._template = _CELL_SEP.join(["%s"] * column_count) + _ROW_END
        self._separators_per_row = column_count - 1
        self._careful_lines = _Lines()
        self._careful = csv.writer(self._careful_lines, lineterminator=_LINE_END)

    def header(self, names: Sequence[str]) -> bytes:
        """The header line: ``names`` quoted where needed, never neutralised."""
        self._careful.writerow(names)
        return self._careful_lines.pop().encode(_ENCODING, _ENCODING_ERRORS)

    def encode(self, rows: Sequence[Sequence[object]]) -> bytes:
        """The CSV bytes of ``rows``: one line per row, each ending in CRLF."""
        data = "".join(map(self._template.__mod__, rows)).encode(_ENCODING, _ENCODING_ERRORS)
        separators = len(rows) * self._separators_per_row
        if data.count(_ROW_END_BYTE) != len(rows) or data.count(_CELL_SEP_BYTE) != separators:
            return "".join(map(self._careful_line, rows)).encode(_ENCODING, _ENCODING_ERRORS)
        marked = data.translate(_MARKS)
        pieces = []
        clean_from = 0
        row_index = 0
        for row_start, formula_like in _rows_needing_care(data, marked):
            row_index += data.count(_ROW_END_BYTE, clean_from, row_start)
            pieces.append(_with_real_separators(data[clean_from:row_start]))
            row_end = data.index(_ROW_END_BYTE, row_start)
            if formula_like:
                pieces.append(self._careful_line(rows[row_index]).encode(_ENCODING, _ENCODING_ERRORS))
            else:
                pieces.append(_quoted_line(data[row_start:row_end], marked[row_start:row_end]))
            row_index += 1
            clean_from = row_end + 1
        pieces.append(_with_real_separators(data[clean_from:]))
        return b"".join(pieces)

    def _careful_line(self, row: Sequence[object]) -> str:
        """The row as csv.writer writes it once formula-like cells are neutralised."""
        self._careful.writerow(map(neutralise, row))
        return self._careful_lines.pop()


def _rows_needing_care(data: bytes, marked: bytes) -> list[tuple[int, bool]]:
    """(start offset, has a formula-like cell) of each row of ``data`` (a templated batch) needing care."""
    formula_like = {0: True} if data.startswith(_FORMULA_BYTES) else {}
    for needle in _NEEDLES:
        is_formula = needle in _FORMULA_NEEDLES
        found = marked.find(needle)
        while found != -1:
            inside = found + len(needle) - 1
            start = data.rfind(_ROW_END_BYTE, 0, inside) + 1
            formula_like[start] = is_formula or formula_like.get(start, False)
            found = marked.find(needle, data.index(_ROW_END_BYTE, inside))  # on from the end of that row
    return sorted(formula_like.items())


def _quoted_line(row: bytes, marked_row: bytes) -> bytes:
    """A templated row with no formula-like cell as csv.writer writes it: quotes where needed."""
    pieces = []
    copied_to = 0
    found = marked_row.find(_QUOTE_NEEDLE)
    while found != -1:
        cell_start = row.rfind(_CELL_SEP_BYTE, 0, found) + 1
        cell_end = row.find(_CELL_SEP_BYTE, found)
        cell_end = len(row) if cell_end == -1 else cell_end
        cell = row[cell_start:cell_end]
        if _needs_quotes(cell):  # not only a \x02 of the data's own
            pieces += (row[copied_to:cell_start], b'"', cell.replace(b'"', b'""'), b'"')
            copied_to = cell_end
        found = marked_row.find(_QUOTE_NEEDLE, cell_end)
    pieces.append(row[copied_to:])
    return b"".join(pieces).replace(_CELL_SEP_BYTE, b",") + _LINE_END_BYTES


def _needs_quotes(cell: bytes) -> bool:
    return b"," in cell or b'"' in cell or b"\r" in cell or b"\n" in cell


def _with_real_separators(data: bytes) -> bytes:
    return data.replace(_CELL_SEP_BYTE, b",").replace(_ROW_END_BYTE, _LINE_END_BYTES)
