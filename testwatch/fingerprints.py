"""Fingerprints of project files: a content hash, and for Python the hash of each code block.

A Python file is cut into blocks: one per function body (``Cart.total``) and ``<module>``, the
rest of the file with every function body left out (imports, constants, class attributes,
signatures, default arguments, decorators). Hashes come from the AST without positions, so a
shifted line, a comment or blank lines change no block, while any edit that runs differently does.
"""

from __future__ import annotations

import ast
import bisect
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

MODULE_BLOCK = "<module>"
UNPARSABLE = "<unparsable>"


def content_hash(data: bytes) -> str:
    """A short, stable hash of file content."""
    return hashlib.blake2b(data, digest_size=10).hexdigest()


def _hash_nodes(nodes: list[ast.AST]) -> str:
    text = "\n".join(ast.dump(node, include_attributes=False) for node in nodes)
    return content_hash(text.encode("utf-8"))


@dataclass
class PythonBlocks:
    """A Python file's block hashes and which block each line belongs to."""

    hashes: dict[str, str]
    # Function bodies as (first body line, last line, block name), sorted by first line.
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    # def line (of the function, decorators excluded) -> block name, for never-run tests.
    defs: dict[int, str] = field(default_factory=dict)

    def block_at(self, lineno: int) -> str:
        """The innermost function body holding ``lineno``, else ``<module>``."""
        if UNPARSABLE in self.hashes:
            return UNPARSABLE
        best = MODULE_BLOCK
        starts = [span[0] for span in self.spans]
        for start, end, name in self.spans[: bisect.bisect_right(starts, lineno)]:
            if start <= lineno <= end:
                best = name  # later starts are nested deeper
        return best


class _BlockCollector(ast.NodeTransformer):
    def __init__(self) -> None:
        self.hashes: dict[str, str] = {}
        self.spans: list[tuple[int, int, str]] = []
        self.defs: dict[int, str] = {}
        self._scope: list[str] = []

    def _name(self, name: str) -> str:
        qualname = ".".join([*self._scope, name])
        unique, n = qualname, 1
        while unique in self.hashes:
            n += 1
            unique = f"{qualname}#{n}"
        return unique

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self._scope.append(node.name)
        self.generic_visit(node)
        self._scope.pop()
        return node

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        name = self._name(node.name)
        self.hashes[name] = _hash_nodes(node.body)
        self.spans.append((node.body[0].lineno, node.end_lineno or node.lineno, name))
        self.defs[node.lineno] = name
        self._scope.append(node.name)
        self.generic_visit(node)
        self._scope.pop()
        node.body = [ast.Pass()]  # the skeleton keeps the signature, not the body
        return node

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function


def python_blocks(source: bytes) -> PythonBlocks:
    """Block hashes of a Python source; an unparsable file is one block that always differs."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return PythonBlocks({UNPARSABLE: content_hash(source)})
    collector = _BlockCollector()
    skeleton = collector.visit(tree)
    collector.hashes[MODULE_BLOCK] = _hash_nodes([skeleton])
    return PythonBlocks(collector.hashes, sorted(collector.spans), collector.defs)


def imported_names(source: bytes, module: str, is_package: bool) -> set[str]:
    """Absolute names of every module this source may import, wherever the import statement is.

    ``from a import b`` yields ``a`` and ``a.b`` (b may be a submodule); relative imports are
    resolved against ``module``. Imports inside functions count: when in doubt, depend.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join(filter(None, [*parts, base]))
            if base:
                names.add(base)
            names.update(f"{base}.{alias.name}" if base else alias.name for alias in node.names)
    return names


def file_blocks(path: Path) -> tuple[str, PythonBlocks | None]:
    """(content hash, blocks or None for a non-Python file); raises OSError if unreadable."""
    data = path.read_bytes()
    blocks = python_blocks(data) if path.suffix == ".py" else None
    return content_hash(data), blocks
