"""The marker filter (``m``): a pytest ``-m`` expression, checked before it reaches pytest."""

from __future__ import annotations

from collections.abc import Callable

from _pytest.mark.expression import Expression, ParseError


def marker_matcher(expression: str) -> Callable[[list[str]], bool]:
    """A function telling whether a test with these markers matches ``expression``.

    Raises ValueError with one sentence when pytest would reject the expression.
    """
    try:
        compiled = Expression.compile(expression)
    except ParseError as exc:
        raise ValueError(f"marker expression {expression!r} is not valid: {exc.message}") from None
    return lambda markers: compiled.evaluate(lambda name, **kwargs: name in markers)
