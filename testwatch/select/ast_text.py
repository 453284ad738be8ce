"""A position-free text of Python AST nodes, for hashing code blocks (``fingerprints``).

It holds what ``ast.dump(node, include_attributes=False)`` holds (every node's type and every
field, nothing of its line and column) at under half the cost: one token per node type, scalar
and list boundary, joined by NUL, which no token contains (a scalar is its ``repr``). Two nodes
have the same text exactly when their ``ast.dump`` texts are the same.
"""

from __future__ import annotations

from ast import AST

_SEPARATOR = "\0"
_LAYOUTS: dict[type, tuple[str, tuple[str, ...]]] = {}  # node type -> (its name, its fields)
_LEAVES: dict[type, str] = {}  # node type without fields (``Load``, ``Add``) -> its whole text


def node_text(nodes: list[AST]) -> str:
    """The text of ``nodes`` in order (each node's text ends with its own closing token)."""
    tokens: list[str] = []
    for node in nodes:
        _append_tokens(node, tokens)
    return _SEPARATOR.join(tokens)


def module_text(statement_texts: list[str], type_ignores: list[AST]) -> str:
    """``node_text([module])`` of an ``ast.Module`` from its statements' texts, made once."""
    parts = ["Module", "[", *statement_texts, "]", "["]
    if type_ignores:
        parts.append(node_text(type_ignores))
    parts += ["]", ")"]
    return _SEPARATOR.join(parts)


def _layout(node_type: type) -> tuple[str, tuple[str, ...]]:
    layout = _LAYOUTS[node_type] = (node_type.__name__, tuple(node_type._fields))
    if not layout[1]:
        _LEAVES[node_type] = f"{layout[0]}{_SEPARATOR})"
    return layout


def _append_tokens(node: AST, tokens: list[str]) -> None:
    name, fields = _LAYOUTS.get(type(node)) or _layout(type(node))
    append = tokens.append
    append(name)
    for field in fields:
        value = getattr(node, field, None)
        if isinstance(value, AST):
            leaf = _LEAVES.get(type(value))  # a quarter of all nodes: Load, Store
            if leaf is None:
                _append_tokens(value, tokens)
            else:
                append(leaf)
        elif isinstance(value, list):
            append("[")
            for item in value:
                if isinstance(item, AST):
                    _append_tokens(item, tokens)
                else:
                    append(repr(item))
            append("]")
        else:
            append(repr(value))
    append(")")
