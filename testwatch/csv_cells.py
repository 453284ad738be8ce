"""CSV cells a spreadsheet cannot run: text that would start a formula gets a leading quote.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula (or
becomes one) in Excel, LibreOffice and Google Sheets. Test names and output are the user's data,
so such text is prefixed with ``'``, which spreadsheets show but do not run. Numbers, negative
ones included, stay numbers. The check runs inside SQLite so the common case costs no Python.
"""

from __future__ import annotations

import re
import sqlite3

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISER = "'"
SQL_FUNCTION = "testwatch_csv_cell"

_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
# unicode() of the first character: = + - @ tab CR.
_SQL_FIRST_CODES = ", ".join(str(ord(start)) for start in FORMULA_STARTS)


def neutralise(value: object) -> object:
    """The cell to write for ``value``: formula-like text gets a leading ``'``; the rest unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return NEUTRALISER + value
    return value


def register(conn: sqlite3.Connection) -> None:
    """Make ``neutralised_column`` usable on ``conn``."""
    conn.create_function(SQL_FUNCTION, 1, neutralise, deterministic=True)


def neutralised_column(column: str, declared_type: str = "TEXT") -> str:
    """A SELECT expression for ``column`` that calls Python only for a cell that may start a formula.

    A TEXT column is checked on its first character; any other column (SQLite's typing is
    dynamic) only when a value in it is text, which testwatch never writes there.
    """
    quoted = '"' + column.replace('"', '""') + '"'
    if declared_type.upper() == "TEXT":
        test = f"unicode({quoted}) IN ({_SQL_FIRST_CODES})"
    else:
        test = f"typeof({quoted}) = 'text'"
    return f"CASE WHEN {test} THEN {SQL_FUNCTION}({quoted}) ELSE {quoted} END"
