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
_SQL_STARTS = ", ".join(["'='", "'+'", "'-'", "'@'", "char(9)", "char(13)"])


def neutralise(value: object) -> object:
    """The cell to write for ``value``: formula-like text gets a leading ``'``; the rest unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return NEUTRALISER + value
    return value


def register(conn: sqlite3.Connection) -> None:
    """Make ``neutralised_column`` usable on ``conn``."""
    conn.create_function(SQL_FUNCTION, 1, neutralise, deterministic=True)


def neutralised_column(column: str) -> str:
    """A SELECT expression for ``column`` that calls Python only for text starting a formula."""
    quoted = '"' + column.replace('"', '""') + '"'
    return (
        f"CASE WHEN typeof({quoted}) = 'text' AND substr({quoted}, 1, 1) IN ({_SQL_STARTS}) "
        f"THEN {SQL_FUNCTION}({quoted}) ELSE {quoted} END"
    )
