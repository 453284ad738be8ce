"""Text from the user's tests made safe for a terminal, for the headless lines and the app alike:
every control or format character (C0, C1, the bidi overrides U+202A-202E, U+2066-2069, U+200E/F,
zero-width ones, line separators, lone surrogates) is shown escaped, never obeyed."""

from __future__ import annotations

import unicodedata

# Unicode categories a terminal would obey or draw as nothing: controls, format (bidi, zero
# width), surrogates, private use, unassigned, line and paragraph separators.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _escaped(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def safe(value: object, keep: str = "\n\t") -> str:
    """``value`` as text whose hidden characters are escaped; those in ``keep`` stay as they are."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the common case, in C
        return text
    return "".join(
        char if char in keep or unicodedata.category(char) not in _HIDDEN_CATEGORIES else _escaped(char)
        for char in text
    )


def one_line(value: object) -> str:
    """``safe`` for what must stay on its line (a node id, a path): newlines and tabs escaped too."""
    return safe(value, keep="")
