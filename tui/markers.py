"""The marker filter (``m``): a pytest ``-m`` expression, checked before it reaches pytest.

pytest keeps its expression parser private (``_pytest.mark.expression``, whose names changed in
pytest 9), so this is a small parser of the same grammar, from pytest's documentation::

    expression: expr? EOF
    expr:       and_expr ('or' and_expr)*
    and_expr:   not_expr ('and' not_expr)*
    not_expr:   'not' not_expr | '(' expr ')' | ident kwargs?
    kwargs:     '(' name '=' value (',' name '=' value)* ')'

A marker with keyword arguments (``slow(reason=1)``) matches here by its name alone: the tree knows
which markers a test has, not their arguments, and pytest applies the whole expression to the run.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_TOKEN = re.compile(
    r"\s*(?:(?P<lparen>\()|(?P<rparen>\))|(?P<comma>,)|(?P<equal>=)"
    r"|(?P<string>\"[^\"]*\"|'[^']*')|(?P<ident>[\w:+\-.\[\]\\/]+))"
)
_KEYWORDS = {"and", "or", "not"}
_WORDS = {"ident": "a marker name", "rparen": "')'", "lparen": "'('", "equal": "'='"}
Matcher = Callable[[frozenset[str]], bool]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str, int]] = []
        position = 0
        while text[position:].strip():
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                column = len(text) - len(text[position:].lstrip()) + 1
                raise ValueError(f"unexpected character at column {column}")
            group = match.lastgroup or ""
            value = match.group(group)
            kind = value if group == "ident" and value in _KEYWORDS else group
            self.tokens.append((kind, value, match.start(group) + 1))
            position = match.end()
        self.index = 0

    def peek(self) -> str:
        return self.tokens[self.index][0] if self.index < len(self.tokens) else "end"

    def take(self, kind: str) -> str:
        if self.peek() != kind:
            where = f"column {self.tokens[self.index][2]}" if self.index < len(self.tokens) else "the end"
            raise ValueError(f"expected {_WORDS.get(kind, kind)} at {where}")
        value = self.tokens[self.index][1]
        self.index += 1
        return value

    def expression(self) -> Matcher:
        if self.peek() == "end":
            return lambda markers: True
        matcher = self.or_expr()
        if self.peek() != "end":
            _, value, column = self.tokens[self.index]
            raise ValueError(f"unexpected {value!r} at column {column}")
        return matcher

    def or_expr(self) -> Matcher:
        return self.joined("or", self.and_expr, any)

    def and_expr(self) -> Matcher:
        return self.joined("and", self.not_expr, all)

    def joined(self, keyword: str, operand: Callable[[], Matcher], combine) -> Matcher:
        """``operand (keyword operand)*``, the operands' results combined by ``any`` or ``all``."""
        parts = [operand()]
        while self.peek() == keyword:
            self.take(keyword)
            parts.append(operand())
        return parts[0] if len(parts) == 1 else lambda markers: combine(part(markers) for part in parts)

    def not_expr(self) -> Matcher:
        if self.peek() == "not":
            self.take("not")
            inner = self.not_expr()
            return lambda markers: not inner(markers)
        if self.peek() == "lparen":
            self.take("lparen")
            inner = self.or_expr()
            self.take("rparen")
            return inner
        name = self.take("ident")
        if self.peek() == "lparen":
            self.keyword_arguments()
        return lambda markers: name in markers

    def keyword_arguments(self) -> None:
        self.take("lparen")
        while True:
            self.take("ident")
            self.take("equal")
            if self.peek() == "string":
                self.take("string")
            else:
                self.take("ident")
            if self.peek() != "comma":
                break
            self.take("comma")
        self.take("rparen")


def marker_matcher(expression: str) -> Callable[[list[str]], bool]:
    """A function telling whether a test with these markers matches ``expression``.

    Raises ValueError with one sentence when pytest would reject the expression.
    """
    try:
        matcher = _Parser(expression).expression()
    except ValueError as exc:
        raise ValueError(f"marker expression {expression!r} is not valid: {exc}") from None
    return lambda markers: matcher(frozenset(markers))
