"""Fingerprints of project files: a content hash, and for Python the hash of each code block.

A Python file is cut into blocks: one per function body (``Cart.total``) and ``<module>``, the
rest of the file with every function body left out (imports, constants, class attributes,
signatures, default arguments, decorators). Hashes come from the AST without positions, so a
shifted line, a comment or blank lines change no block, while any edit that runs differently does.
"""

from __future__ import annotations

import ast
import bisect
import contextlib
import hashlib
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from testwatch.history.dep_index import MODULE_BLOCK

UNPARSABLE = "<unparsable>"


def content_hash(data: bytes) -> str:
    """A short, stable hash of file content."""
    return hashlib.blake2b(data, digest_size=10).hexdigest()


def _hash_nodes(nodes: list[ast.AST]) -> str:
    text = "\n".join(ast.dump(node, include_attributes=False) for node in nodes)
    return content_hash(text.encode("utf-8"))


class ImportStatement(NamedTuple):
    """An import as written: ``import a.b`` has no ``from_module``; ``from ..a import b`` has "a", 2."""

    names: tuple[str, ...]
    from_module: str | None = None
    level: int = 0


@dataclass
class PythonBlocks:
    """A Python file's block hashes and which block each line belongs to."""

    hashes: dict[str, str]
    # Function bodies as (first body line, last line, block name), sorted by first line.
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    # def line, and first decorator line, of each function -> block name, for tests that run
    # none of their own lines (skipped by a marker, or never run).
    defs: dict[int, str] = field(default_factory=dict)
    # Every import statement, wherever it is (see ``imported_names``).
    imports: list[ImportStatement] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._starts = [span[0] for span in self.spans]

    def block_at(self, lineno: int) -> str:
        """The innermost function body holding ``lineno``, else ``<module>``."""
        if UNPARSABLE in self.hashes:
            return UNPARSABLE
        best = MODULE_BLOCK
        for start, end, name in self.spans[: bisect.bisect_right(self._starts, lineno)]:
            if start <= lineno <= end:
                best = name  # later starts are nested deeper
        return best


# Functions, classes and imports are statements, so only these nodes can hold one.
_STATEMENT_NODES = (ast.stmt, ast.excepthandler, ast.match_case)


class _BlockCollector:
    """Walks the statements of a tree (never its expressions): block hashes, spans, defs, imports.

    Function bodies are replaced by ``pass`` on the way out, which leaves the module's skeleton.
    """

    def __init__(self, known_hashes: dict[str, str] | None = None) -> None:
        self._known_hashes = known_hashes
        self.hashes: dict[str, str] = {}
        self.spans: list[tuple[int, int, str]] = []
        self.defs: dict[int, str] = {}
        self.imports: list[ImportStatement] = []
        self._scope: list[str] = []

    def _name(self, name: str) -> str:
        qualname = ".".join([*self._scope, name])
        unique, n = qualname, 1
        while unique in self.hashes:
            n += 1
            unique = f"{qualname}#{n}"
        return unique

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._visit_function(node)
        elif isinstance(node, ast.ClassDef):
            self._scope.append(node.name)
            self._visit_statements(node)
            self._scope.pop()
        elif isinstance(node, ast.Import):
            self.imports.append(ImportStatement(tuple(alias.name for alias in node.names)))
        elif isinstance(node, ast.ImportFrom):
            names = tuple(alias.name for alias in node.names)
            self.imports.append(ImportStatement(names, node.module or "", node.level or 0))
        else:
            self._visit_statements(node)

    def _visit_statements(self, node: ast.AST) -> None:
        """Visit the statements directly inside ``node``, in field order (as ``generic_visit``)."""
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, _STATEMENT_NODES):
                        self.visit(item)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        name = self._name(node.name)
        known = self._known_hashes
        self.hashes[name] = known[name] if known is not None else _hash_nodes(node.body)
        self.spans.append((node.body[0].lineno, node.end_lineno or node.lineno, name))
        self.defs[node.lineno] = name
        if node.decorator_list:  # a decorated function's code (and pytest's location) starts here
            self.defs.setdefault(node.decorator_list[0].lineno, name)
        self._scope.append(node.name)
        self._visit_statements(node)
        self._scope.pop()
        node.body = [ast.Pass()]  # the skeleton keeps the signature, not the body


# CPython 3.11.0-3.11.7 count ast.parse's recursion per interpreter, not per call, and may run the
# garbage collector (and so another thread) in the middle of building a tree: two threads parsing at
# once can fail with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905,
# fixed in 3.11.8 and 3.12.2; 3.12 runs the collector only between bytecodes, and the reproducer of
# that issue fails on 3.11.7, not on 3.12.1 or 3.13.0). testwatch parses in the loop's thread
# (selection) and in the recording thread (fingerprints, coverage.py's analysis), so on those
# versions every parse holds this lock; on the others it is a no-op.
_AST_RACE = sys.version_info < (3, 11, 8)
PARSE_LOCK = threading.RLock() if _AST_RACE else contextlib.nullcontext()


def python_blocks(source: bytes, known_hashes: dict[str, str] | None = None) -> PythonBlocks:
    """Block hashes, spans and imports of a Python source, from one parse; an unparsable file is
    one block that always differs (and imports nothing).

    ``known_hashes``: this very source's block hashes, computed before (the costly part): taken
    as they are when they name the same blocks, else computed again.
    """
    try:
        with PARSE_LOCK:
            tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return PythonBlocks({UNPARSABLE: content_hash(source)})
    if known_hashes is not None:
        collector = _BlockCollector(known_hashes)
        try:
            collector.visit(tree)
        except KeyError:  # hashes of other blocks: made by another version of the hashing
            return python_blocks(source)
        if collector.hashes.keys() | {MODULE_BLOCK} != known_hashes.keys():
            return python_blocks(source)
        collector.hashes[MODULE_BLOCK] = known_hashes[MODULE_BLOCK]
        return PythonBlocks(collector.hashes, sorted(collector.spans), collector.defs, collector.imports)
    collector = _BlockCollector()
    collector.visit(tree)
    collector.hashes[MODULE_BLOCK] = _hash_nodes([tree])
    return PythonBlocks(collector.hashes, sorted(collector.spans), collector.defs, collector.imports)


def imported_names(imports: list[ImportStatement], module: str, is_package: bool) -> set[str]:
    """Absolute names of every module these import statements (of ``module``) may import.

    ``from a import b`` yields ``a`` and ``a.b`` (b may be a submodule); relative imports are
    resolved against ``module``. Imports inside functions count: when in doubt, depend.
    """
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for statement in imports:
        if statement.from_module is None:
            names.update(statement.names)
            continue
        base = statement.from_module
        if statement.level:
            parts = package.split(".") if package else []
            parts = parts[: len(parts) - (statement.level - 1)] if statement.level > 1 else parts
            base = ".".join(filter(None, [*parts, base]))
        if base:
            names.add(base)
        names.update(f"{base}.{alias}" if base else alias for alias in statement.names)
    return names


def file_blocks(
    path: Path, known: tuple[str, dict[str, str]] | None = None
) -> tuple[str, PythonBlocks | None]:
    """(content hash, blocks or None for a non-Python file); raises OSError if unreadable.

    ``known``: a (content hash, block hashes) recorded earlier; when the content hash is the same,
    its block hashes are reused rather than computed again.
    """
    data = path.read_bytes()
    sha = content_hash(data)
    if path.suffix != ".py":
        return sha, None
    known_hashes = known[1] if known is not None and known[0] == sha and known[1] else None
    return sha, python_blocks(data, known_hashes)
