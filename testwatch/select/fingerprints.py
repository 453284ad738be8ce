"""Fingerprints of project files: a content hash, and for Python the hash of each code block.

A Python file is cut into blocks: one per function body (``Cart.total``) and ``<module>``, the
rest of the file with every function body left out (imports, constants, class attributes,
signatures, default arguments, decorators). Hashes come from the AST without positions
(``ast_text``), so a shifted line, a comment or blank lines change no block, while any edit that
runs differently does.

``<module>`` is also hashed name by name (``<module>:NAME``: the top-level statements that bind
NAME, function bodies left out) beside its layout (``<module>:``: each statement's kind and bound
names in order, and the statements that bind no name), so a selection can tell which module-level
names an edit changed (``module_names.py``). A class is hashed attribute by attribute too
(``<module>:Cls.NAME``, and ``<module>:Cls.`` for the rest of it), so an edit of an attribute's
value can be told from any other edit of the class.
"""

from __future__ import annotations

import ast
import bisect
import contextlib
import copy
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TypeVar

from testwatch.history.dep_index import MODULE_BLOCK
from testwatch.select.ast_text import module_text, node_text
from testwatch.select.content_hashes import content_hash

UNPARSABLE = "<unparsable>"
# Keys of the name-by-name hashes of ``<module>`` among a file's block hashes.
NAME_PREFIX = f"{MODULE_BLOCK}:"
LAYOUT_KEY = NAME_PREFIX


def _hash_nodes(nodes: list[ast.AST]) -> str:
    return content_hash(node_text(nodes).encode("utf-8"))


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


# Method decorators that leave its first parameter the instance or the class.
_SELF_KEEPING_DECORATORS = frozenset(
    {"property", "cached_property", "classmethod", "setter", "getter", "deleter", "abstractmethod",
     "override"}
)
# Functions, classes and imports are statements, so only these nodes can hold one.
_STATEMENT_NODES = (ast.stmt, ast.excepthandler, ast.match_case)


@dataclass(frozen=True)
class BlockReads:
    """The names a piece of code may read: plain names, attribute names (``x.NAME``, whatever
    object they are read from), and mentions: names it imports (``from mod import NAME``) and
    identifier strings (``getattr(x, "NAME")``, a dotted ``"pkg.mod.NAME"``). ``dynamic``: the
    ways it reads names without naming them: ``globals()``, ``vars()``, ``exec()``, ``eval()``,
    ``__dict__``, or ``getattr@X``, ``vars@X``, ``__dict__@X`` on a plain name X (``__dict__@()``
    on a call's result; ``getattr@.X`` when X is the function's own: a parameter or a local).

    A nested function's body is its own block: only its decorators and defaults count here.
    ``self_only``: the attributes a method reads on its first parameter (``self.NAME``,
    ``cls.NAME``) and on nothing else."""

    names: frozenset[str]
    attributes: frozenset[str]
    mentions: frozenset[str]
    dynamic: frozenset[str]
    self_only: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls, nodes: list[ast.AST], self_name: str = "", parameters: frozenset[str] = frozenset()
    ) -> BlockReads:
        """What ``nodes`` read; ``parameters``: the function's, which (as the names it assigns)
        are its own: ``getattr(attr, name)`` on a parameter named ``attr`` is ``getattr@.attr``,
        no dynamic read of a module imported as ``attr``."""
        names: set[str] = set()
        local = set(parameters)
        attributes: set[str] = set()
        mentions: set[str] = set()
        dynamic: set[str] = set()
        on_self: set[str] = set()
        on_others: set[str] = set()
        stack = list(nodes)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Name):
                names.add(node.id)
                if isinstance(node.ctx, ast.Store):
                    local.add(node.id)
            elif isinstance(node, ast.Attribute):
                if not isinstance(node.ctx, ast.Store):  # ``x.NAME = v`` reads no NAME
                    attributes.add(node.attr)
                base = node.value
                on_me = self_name and isinstance(base, ast.Name) and base.id == self_name
                (on_self if on_me else on_others).add(node.attr)
                if node.attr == "__dict__":
                    if isinstance(base, ast.Name):
                        dynamic.add(f"__dict__@{base.id}")
                    else:  # a call's result is an object made there; a subscript may be a module
                        dynamic.add("__dict__@()" if isinstance(base, ast.Call) else "__dict__")
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Attribute):
                attributes.add(node.target.attr)  # ``x.NAME += 1`` reads NAME
            elif isinstance(node, ast.Call):
                dynamic |= _dynamic_call(node)
            elif isinstance(node, ast.ImportFrom):
                mentions.update(alias.name for alias in node.names)
            elif isinstance(node, ast.Constant):
                if isinstance(node.value, str) and len(node.value) < 200:
                    parts = node.value.split(".")
                    if all(part.isidentifier() for part in parts):
                        mentions.update(parts)
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node not in nodes:
                stack += [*node.decorator_list, *node.args.defaults, *filter(None, node.args.kw_defaults)]
                continue
            stack.extend(ast.iter_child_nodes(node))
        dynamic = {_own(way) if way.partition("@")[2] in local else way for way in dynamic}
        return cls(
            frozenset(names), frozenset(attributes), frozenset(mentions), frozenset(dynamic),
            frozenset(on_self - on_others),
        )


def _own(way: str) -> str:
    """A dynamic read on the function's own name (a parameter or local): ``getattr@.attr``."""
    kind, _, name = way.partition("@")
    return f"{kind}@.{name}"


def _dynamic_call(node: ast.Call) -> set[str]:
    func = node.func.id if isinstance(node.func, ast.Name) else ""
    first = node.args[0] if node.args else None
    if func in ("globals", "exec", "eval") or (func == "vars" and first is None):
        return {f"{func}()"}
    if not isinstance(first, ast.Name):
        return set()
    if func == "vars":
        return {f"vars@{first.id}"}
    computed = len(node.args) > 1 and not isinstance(node.args[1], ast.Constant)
    if func in ("getattr", "hasattr", "setattr") and computed:
        return {f"getattr@{first.id}"}
    return set()


class _BlockCollector:
    """Walks the statements of a tree (never its expressions): block hashes, spans, defs, imports.

    Function bodies are replaced by ``pass`` on the way out, which leaves the module's skeleton.
    """

    def __init__(self, known_hashes: dict[str, str] | None = None, reads: bool = False) -> None:
        self._known_hashes = known_hashes
        self.reads: dict[str, BlockReads] | None = {} if reads else None
        self.bodies: dict[ast.AST, list[ast.stmt]] = {}  # reads only: each def -> its own body
        self.hashes: dict[str, str] = {}
        self.spans: list[tuple[int, int, str]] = []
        self.defs: dict[int, str] = {}
        self.imports: list[ImportStatement] = []
        self._scope: list[str] = []
        self._in_class: list[bool] = []  # per scope: whether it is a class body

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
            self._in_class.append(True)
            self._visit_statements(node)
            self._in_class.pop()
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
        if self.reads is not None:  # reads, not hashes: the name is all ``hashes`` keeps
            arguments = node.args
            parameters = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            parameters += [arg for arg in (arguments.vararg, arguments.kwarg) if arg is not None]
            self.reads[name] = BlockReads.of(
                node.body, self._self_name(node), frozenset(arg.arg for arg in parameters)
            )
            self.hashes[name] = ""
            self.bodies[node] = node.body
        else:
            self.hashes[name] = known[name] if known is not None else _hash_nodes(node.body)
        self.spans.append((node.body[0].lineno, node.end_lineno or node.lineno, name))
        self.defs[node.lineno] = name
        if node.decorator_list:  # a decorated function's code (and pytest's location) starts here
            self.defs.setdefault(node.decorator_list[0].lineno, name)
        self._scope.append(node.name)
        self._in_class.append(False)
        self._visit_statements(node)
        self._in_class.pop()
        self._scope.pop()
        node.body = [ast.Pass()]  # the skeleton keeps the signature, not the body

    def _self_name(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
        """A method's first parameter (its instance or class), "" for other functions."""
        if not self._in_class or not self._in_class[-1]:
            return ""
        for decorator in node.decorator_list:
            name = decorator.attr if isinstance(decorator, ast.Attribute) else getattr(decorator, "id", "")
            if name not in _SELF_KEEPING_DECORATORS:
                return ""
        positional = [*node.args.posonlyargs, *node.args.args]
        return positional[0].arg if positional else ""


def bound_names(statement: ast.stmt) -> set[str]:
    """The module-level names a top-level statement binds (or rebinds, mutates, deletes): the
    targets of assignments (``D["k"] = v`` and ``C.x = v`` bind D and C), defs, classes, imports
    and everything bound inside a compound statement (``if``, ``try``, ``for``, ``with``)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).partition(".")[0] for alias in statement.names
                if alias.name != "*"}
    if _is_docstring(statement):
        return {"__doc__"}
    names: set[str] = set()
    for node in _walk_statement(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            base = node.value
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                names.add(base.id)
        elif isinstance(node, ast.stmt) and node is not statement:
            names |= bound_names(node)
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            names.add(node.name)
    return names


def _walk_statement(statement: ast.stmt):
    """The nodes of a statement, not entering nested defs, classes and imports (they bind their
    own name) nor lambdas and comprehensions (their names are their own)."""
    stack = list(ast.iter_child_nodes(statement))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
                             ast.ImportFrom, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                             ast.GeneratorExp)):
            continue
        stack.extend(ast.iter_child_nodes(node))


def _is_docstring(statement: ast.stmt) -> bool:
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))


def name_hashes(statements: list[ast.stmt], texts: list[str]) -> dict[str, str]:
    """``<module>:NAME`` -> hash of the statements binding NAME, and the layout's hash under
    ``<module>:`` (function bodies already left out of ``statements``; ``texts``: each one's
    ``node_text``). A class that is the only statement binding its name is also hashed member by
    member (``member_hashes``)."""
    dumps: dict[str, list[str]] = {}
    layout: list[str] = []
    classes: dict[str, ast.ClassDef] = {}
    for statement, text in zip(statements, texts, strict=True):
        names = sorted(bound_names(statement))
        layout.append(layout_entry(statement, names, text))
        for name in names:
            dumps.setdefault(name, []).append(text)
        if isinstance(statement, ast.ClassDef):
            classes[statement.name] = statement
    hashes = {f"{NAME_PREFIX}{name}": content_hash("\n".join(parts).encode("utf-8"))
              for name, parts in dumps.items()}
    hashes[LAYOUT_KEY] = layout_hash(layout)
    for name, statement in classes.items():
        if len(dumps[name]) == 1:
            hashes.update(member_hashes(statement))
    return hashes


def layout_entry(statement: ast.stmt, names: list[str], text: str) -> str:
    """A top-level statement in the module's layout: its kind and the names it binds (sorted), or
    its text (``node_text``) when it binds none."""
    return f"{type(statement).__name__} {' '.join(names)}" if names else text


def layout_hash(entries: list[str]) -> str:
    """The hash of a module's layout (``<module>:``) from its statements' ``layout_entry``."""
    return content_hash("\n".join(entries).encode("utf-8"))


def class_members(statement: ast.ClassDef) -> list[ast.stmt]:
    """A class body's plain attribute assignments; the rest (bases, keywords, decorators, methods'
    signatures, other statements) is its head."""
    return [s for s in statement.body if isinstance(s, (ast.Assign, ast.AnnAssign, ast.AugAssign))]


def member_hashes(statement: ast.ClassDef) -> dict[str, str]:
    """``<module>:Cls.NAME`` -> hash of the class's attribute assignments binding NAME, and
    ``<module>:Cls.`` -> hash of its head, each attribute assignment in it as its kind and names:
    an edit of attribute values alone leaves the head's hash as it was."""
    members = class_members(statement)
    dumps: dict[str, list[str]] = {}
    for member in members:
        text = node_text([member])
        for name in bound_names(member):
            dumps.setdefault(name, []).append(text)
    head = copy.copy(statement)
    head.body = [
        ast.Expr(ast.Constant(f"{type(s).__name__} {' '.join(sorted(bound_names(s)))}"))
        if s in members else s
        for s in statement.body
    ]
    prefix = f"{NAME_PREFIX}{statement.name}."
    hashes = {
        f"{prefix}{name}": content_hash("\n".join(parts).encode("utf-8")) for name, parts in dumps.items()
    }
    hashes[prefix] = _hash_nodes([head])
    return hashes


def is_name_key(block: str) -> bool:
    """True for the name-by-name hashes of ``<module>`` (not a block a test can run)."""
    return block.startswith(NAME_PREFIX)


# CPython 3.11.0-3.11.7 count ast.parse's recursion per interpreter, not per call, and may run the
# garbage collector (and so another thread) in the middle of building a tree: two threads parsing at
# once can fail with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905,
# fixed in 3.11.8 and 3.12.2; 3.12 runs the collector only between bytecodes, and the reproducer of
# that issue fails on 3.11.7, not on 3.12.1 or 3.13.0). testwatch parses in the loop's thread
# (selection) and in the recording thread (fingerprints, coverage.py's analysis), so on those
# versions every parse holds this lock; on the others it is a no-op. Parses outside testwatch's
# control race too (3.11's tracebacks parse the failing line to place their carets, in whatever
# thread formats them): a parse that meets that race is tried once more.
T = TypeVar("T")
_AST_RACE = sys.version_info < (3, 11, 8)
PARSE_LOCK = threading.RLock() if _AST_RACE else contextlib.nullcontext()


def locked_parse(parse: Callable[[], T]) -> T:
    """``parse()`` (anything that builds a Python AST) under ``PARSE_LOCK``, tried again once when
    it meets python/cpython#106905's race with a parse in another thread."""
    with PARSE_LOCK:
        try:
            return parse()
        except SystemError:
            return parse()


def python_blocks(source: bytes, known_hashes: dict[str, str] | None = None) -> PythonBlocks:
    """Block hashes, spans and imports of a Python source, from one parse; an unparsable file is
    one block that always differs (and imports nothing).

    ``known_hashes``: this very source's block hashes, computed before (the costly part): taken
    as they are when they name the same blocks, else computed again.
    """
    try:
        tree = locked_parse(lambda: ast.parse(source))
    except (SyntaxError, ValueError):
        return PythonBlocks({UNPARSABLE: content_hash(source)})
    if known_hashes is not None:
        collector = _BlockCollector(known_hashes)
        try:
            collector.visit(tree)
        except KeyError:  # hashes of other blocks: made by another version of the hashing
            return python_blocks(source)
        names = {key: value for key, value in known_hashes.items() if is_name_key(key)}
        same_blocks = collector.hashes.keys() | {MODULE_BLOCK} | names.keys() == known_hashes.keys()
        if LAYOUT_KEY not in names or not same_blocks:
            return python_blocks(source)
        collector.hashes[MODULE_BLOCK] = known_hashes[MODULE_BLOCK]
        collector.hashes.update(names)
        return PythonBlocks(collector.hashes, sorted(collector.spans), collector.defs, collector.imports)
    collector = _BlockCollector()
    collector.visit(tree)
    texts = [node_text([statement]) for statement in tree.body]  # each made once, for both hashes
    collector.hashes[MODULE_BLOCK] = content_hash(module_text(texts, tree.type_ignores).encode("utf-8"))
    collector.hashes.update(name_hashes(tree.body, texts))
    return PythonBlocks(collector.hashes, sorted(collector.spans), collector.defs, collector.imports)


def block_reads(
    source: bytes,
) -> tuple[dict[str, BlockReads], list[ast.stmt], dict[ast.AST, list[ast.stmt]]] | None:
    """What each block of a Python source reads (named as its block hashes are), the module's
    top-level statements with function bodies left out, and each def's own body (by its node in
    them); None when it does not parse. Under ``from __future__ import annotations``
    annotations are left out (never evaluated)."""
    try:
        tree = locked_parse(lambda: ast.parse(source))
    except (SyntaxError, ValueError):
        return None
    if any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    ):
        _drop_annotations(tree)  # strings, never evaluated: they read nothing
    collector = _BlockCollector(reads=True)
    collector.visit(tree)
    return collector.reads or {}, tree.body, collector.bodies


def _drop_annotations(tree: ast.Module) -> None:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.returns = None
            arguments = node.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            for arg in [*every, arguments.vararg, arguments.kwarg]:
                if arg is not None:
                    arg.annotation = None
        elif isinstance(node, ast.AnnAssign):
            node.annotation = ast.Constant(None)


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
