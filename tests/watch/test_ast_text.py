"""The position-free text that block hashes are made of: the same information as ``ast.dump``."""

from __future__ import annotations

import ast
import json
import pathlib
import textwrap

import testwatch
from testwatch.select.ast_text import module_text, node_text


def _blocks(tree: ast.Module) -> list[list[ast.AST]]:
    """Every function body and every statement of ``tree``, each a list of nodes as hashed."""
    found: list[list[ast.AST]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(node.body)
        if isinstance(node, ast.stmt):
            found.append([node])
    return found


def test_two_blocks_have_the_same_text_exactly_when_ast_dump_says_they_are_the_same():
    sources = [path.read_bytes() for path in pathlib.Path(testwatch.__file__).parent.rglob("*.py")]
    sources += [pathlib.Path(module.__file__).read_bytes() for module in (ast, json.decoder, textwrap)]
    dump_to_text: dict[str, str] = {}
    text_to_dump: dict[str, str] = {}
    for source in sources:
        for nodes in _blocks(ast.parse(source)):
            dumped = "\n".join(ast.dump(node, include_attributes=False) for node in nodes)
            text = node_text(nodes)
            assert dump_to_text.setdefault(dumped, text) == text
            assert text_to_dump.setdefault(text, dumped) == dumped
    assert len(dump_to_text) > 5000  # enough distinct blocks for the comparison to mean something


def test_positions_and_comments_are_not_in_the_text():
    before = ast.parse("def f(a):\n    return a + 1  # one\n")
    after = ast.parse("\n\n\ndef f(a):\n\n    return (a +\n            1)\n")
    assert node_text(before.body) == node_text(after.body)
    assert node_text(before.body) != node_text(ast.parse("def f(a):\n    return a + 2\n").body)


def test_a_module_text_made_from_its_statements_is_the_module_node_text():
    tree = ast.parse(
        "import os\nX: int = 1  # type: ignore\n\nclass C:\n    y = [1, 'a', None]\n", type_comments=True
    )
    texts = [node_text([statement]) for statement in tree.body]
    assert tree.type_ignores
    assert module_text(texts, tree.type_ignores) == node_text([tree])
    plain = ast.parse("x = 1\n")
    assert module_text([node_text(plain.body)], plain.type_ignores) == node_text([plain])
