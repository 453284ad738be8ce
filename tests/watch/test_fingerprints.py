"""AST block fingerprints: what counts as a change to a function body or to module-level code."""

from __future__ import annotations

import ast
import textwrap

from testwatch.select.fingerprints import (
    MODULE_BLOCK,
    NAME_PREFIX,
    UNPARSABLE,
    imported_names,
    is_name_key,
    python_blocks,
)

SOURCE = """
import json

RATE = 2


class Cart:
    tax = 0.2

    def total(self, items, scale=1):
        def inner(x):
            return x * scale
        return sum(inner(i) for i in items)


def helper():
    return RATE
"""


def blocks(source: str):
    return python_blocks(textwrap.dedent(source).encode())


def changed_blocks(before: str, after: str) -> set[str]:
    old, new = blocks(before).hashes, blocks(after).hashes
    return {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}


def test_blocks_are_functions_and_the_module():
    runnable = {name for name in blocks(SOURCE).hashes if not is_name_key(name)}
    assert runnable == {MODULE_BLOCK, "Cart.total", "Cart.total.inner", "helper"}


def test_module_level_code_is_also_hashed_name_by_name():
    names = {name.removeprefix(NAME_PREFIX) for name in blocks(SOURCE).hashes if is_name_key(name)}
    assert names == {"", "json", "RATE", "Cart", "Cart.", "Cart.tax", "helper"}  # "": the layout


def test_a_module_level_edit_changes_the_names_it_binds_only():
    def changed_names(old: str, new: str) -> set[str]:
        return {name.removeprefix(NAME_PREFIX) for name in changed_blocks(SOURCE, SOURCE.replace(old, new))
                if is_name_key(name)}

    assert changed_names("RATE = 2", "RATE = 3") == {"RATE"}
    assert changed_names("scale=1", "scale=2") == {"Cart", "Cart."}  # a method's default: its head
    assert changed_names("tax = 0.2", "tax = 0.3") == {"Cart", "Cart.tax"}  # an attribute's value
    assert changed_names("tax = 0.2", "tax = 0.2\n    vat = 0.1") == {"Cart", "Cart.", "Cart.vat"}
    assert changed_names("import json", "import json\nimport os") == {"", "os"}  # the layout too
    assert changed_names("return RATE", "return RATE + 1") == set()  # a body: not module-level


def test_shifted_lines_comments_and_blank_lines_change_nothing():
    commented = SOURCE.replace("return RATE", "return RATE  # why")
    assert changed_blocks(SOURCE, "# header\n\n" + commented) == set()


def test_a_body_edit_changes_only_that_function_and_its_encloser():
    assert changed_blocks(SOURCE, SOURCE.replace("x * scale", "x * scale + 0")) == {
        "Cart.total", "Cart.total.inner"}
    assert changed_blocks(SOURCE, SOURCE.replace("return RATE", "return RATE + 1")) == {"helper"}


def test_module_level_edits_change_the_module_block():
    for old, new in [("RATE = 2", "RATE = 3"), ("scale=1", "scale=2"), ("tax = 0.2", "tax = 0.3"),
                     ("import json", "import json\nimport os"), ("def helper", "def helper2")]:
        assert MODULE_BLOCK in changed_blocks(SOURCE, SOURCE.replace(old, new)), old


def test_lines_map_to_the_innermost_function_body():
    parsed = blocks(SOURCE)
    lines = textwrap.dedent(SOURCE).splitlines()
    line_of = {text.strip(): n + 1 for n, text in enumerate(lines) if text.strip()}
    assert parsed.block_at(line_of["return x * scale"]) == "Cart.total.inner"
    assert parsed.block_at(line_of["return sum(inner(i) for i in items)"]) == "Cart.total"
    assert parsed.block_at(line_of["tax = 0.2"]) == MODULE_BLOCK
    assert parsed.defs[line_of["def helper():"]] == "helper"


def test_unparsable_source_is_one_block():
    assert set(blocks("def broken(:\n").hashes) == {UNPARSABLE}


def test_a_parse_that_meets_the_311_ast_race_is_tried_again(monkeypatch):
    """python/cpython#106905: on 3.11.0-3.11.7 a parse racing one in another thread (a traceback
    placing its carets, in whichever thread formats it) fails with SystemError."""
    expected = blocks(SOURCE).hashes
    real_parse, calls = ast.parse, []

    def parse_meeting_the_race(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise SystemError("AST constructor recursion depth mismatch (before=1, after=2)")
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(ast, "parse", parse_meeting_the_race)
    assert blocks(SOURCE).hashes == expected
    assert len(calls) == 2


def test_imported_names_resolve_relative_imports():
    source = b"from . import sibling\nfrom ..up import thing\nimport a.b\n"
    names = imported_names(python_blocks(source).imports, "pkg.sub.mod", is_package=False)
    assert {"pkg.sub", "pkg.sub.sibling", "pkg.up", "pkg.up.thing", "a.b"} <= names


def test_known_hashes_of_the_same_source_give_the_same_blocks():
    source = textwrap.dedent(SOURCE).encode()
    computed = python_blocks(source)
    reused = python_blocks(source, dict(computed.hashes))
    assert (reused.hashes, reused.spans, reused.defs, reused.imports) == (
        computed.hashes, computed.spans, computed.defs, computed.imports)


def test_known_hashes_naming_other_blocks_are_computed_again():
    source = textwrap.dedent(SOURCE).encode()
    other = blocks("def unrelated():\n    return 1\n").hashes
    assert python_blocks(source, other).hashes == python_blocks(source).hashes
