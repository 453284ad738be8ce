"""Which executed code can observe an edit of a module's module-level code, name by name.

An edit of module-level code (a constant, a dict, a default argument, a class attribute) changes
the names its statements bind (``fingerprints.name_hashes`` tells which, from the hashes recorded
before and now). Those names are observed by:

- code that reads them: a function or method body (any module) whose AST names one, as a plain
  name in its own module or through a ``from mod import NAME`` alias, or as an attribute
  (``mod.NAME``, ``self.NAME``) or an identifier string (``getattr(x, "NAME")``) anywhere;
- for a changed def or class, the code of its body (its methods), and through the class
  statements that name it, its subclasses; but when only the values of a class's attributes
  changed (``Response.charset = "latin-1"``) and nothing but their readers can see them (no class
  decorator, metaclass or base from elsewhere, ``_plain_attributes``), the attributes are the
  changed names, read as ``x.NAME`` wherever inherited, and the observers are their readers, the
  code of the class and its subclasses and the code that names them (``Impact.family``; a library
  may read the attribute by a computed name on an instance the test made), not every test that
  ran code of the module, nor every class whose code reads the name at import: a method that
  reads one on its own instance (``self.charset``) sees the edit only in instances of the edited
  class, so that class (and its subclasses) is what making an instance at import calls into,
  when such a method can run then. The edited module's functions that read attributes by a
  computed name observe the edit too;
- module-level code that reads them at import: the names it binds changed too (derived names),
  in any module, transitively, and so do names whose statement calls a function that reads a
  changed name.
- an instance made at import of a class whose code changed or reads a changed name
  (``DEFAULTS = [Renderer()]``, where ``Renderer.__init__`` defaults to a changed constant): what
  changed is the instance's state, which only code of its class or a read of one of its instance
  attributes (``x._pad``) can see, so those are the observers, not every reader of ``DEFAULTS``,
  which only passes the instance along. This holds for a class whose instances keep their state
  to themselves: no class decorator, metaclass or base from elsewhere (so no generated ``__eq__``
  or ``__repr__``), method decorators among ``_PLAIN_METHOD_DECORATORS``, no ``global``,
  ``setattr``, ``vars`` or ``__dict__`` in its methods. A module-level
  statement that only copies such a name (``B = DEFAULTS[:]``) holds the instance too; one that
  computes with it at import (``HEADER = DEFAULTS[0]("title")``) binds a changed name.
- when a class of the edited module changed, the module's functions that read an object's
  ``__dict__`` (``record.__dict__``, ``cls.__dict__``): that object may be the class. Module-level
  code that does so falls back (below).

A test module's names (``test_*.py``, not ``conftest.py``) are read as attributes or strings
(``mod.app``, ``"app"``) only by itself, by files that import it, and by code that may be handed
modules (``request.module``, ``sys.modules``, ``import_module``: ``_MODULE_HANDLES``): pytest
imports test modules by itself and hands them to no other code, so ``self.app`` in a library does
not read the ``app`` a test module derives at import. An attribute stored (``x.NAME = v``) is not
read.

It cannot tell, and says so (the selection then falls back to every importer), when a name can be
read without being named (``globals()``, ``vars()``, ``exec``, ``eval``, ``__dict__`` in the
defining module; ``getattr`` with a computed name, ``vars()`` or ``__dict__`` on the module from
another; ``import *`` from a module whose exported names cannot be told: with a literal
``__all__`` the star import binds just those names, with none at all its public module-level
names, followed as ``from mod import NAME``), when the changed statement binds no name
or is an import or a compound statement, and for names Python or pytest read by themselves
(dunders, ``pytestmark``). When a changed statement makes calls, decorates, or derives a class from
bases, its effects may reach past the names it binds (a registry, a metaclass): every test that ran
code of the edited module is selected too, the rule pytest-testmon applies to every edit.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from testwatch.collectors.in_testwatch.project_files import is_test_file
from testwatch.select.ast_text import node_text
from testwatch.select.fingerprints import (
    LAYOUT_KEY,
    NAME_PREFIX,
    BlockReads,
    ImportStatement,
    block_reads,
    bound_names,
    class_members,
    imported_names,
    is_name_key,
    layout_entry,
    layout_hash,
)
from testwatch.select.import_graph import module_names
from testwatch.select.import_time import PURE_CALLS, is_pytest_mark, settled, undefined_at_import

# Names that code outside the project reads from a module by itself.
_IMPLICIT_NAMES = frozenset({"pytestmark", "pytest_plugins", "collect_ignore", "collect_ignore_glob"})
# Names pytest (and unittest's loader) call in a test module by themselves.
_XUNIT_NAMES = frozenset({
    "setup_module", "teardown_module", "setup_function", "teardown_function", "setup", "teardown",
    "setUpModule", "tearDownModule", "load_tests",
})
# What a widened selection's reason says of statements that make calls, and that may raise.
_EFFECTS = ": its effects are not followed by name"
_RAISES = ": an error there fails every importer"
_DYNAMIC_CALLS = frozenset({"globals", "vars", "exec", "eval"})
# Dynamic reads (``BlockReads.dynamic``) of an object's attributes by a computed name.
_BY_COMPUTED_NAME = ("getattr@", "vars@", "__dict__@")
# What code reads when it is handed a module object it need not import: pytest's
# ``request.module``, ``item.module``, a Module node's ``obj``, ``sys.modules``, a function's
# ``__globals__``, ``inspect.getmodule``, ``importlib.import_module``.
_MODULE_HANDLES = frozenset(
    {"module", "modules", "obj", "__globals__", "getmodule", "import_module", "__import__"}
)


@dataclass(frozen=True)
class Statement:
    """A top-level statement: what it binds and reads (function bodies left out)."""

    bound: frozenset[str]
    reads: BlockReads
    kind: str  # "value" (assignment), "def", "class", "import" or "other"
    effects: bool  # makes calls beyond PURE_CALLS, decorates, or has class bases or keywords
    calls: frozenset[str]  # what it calls or decorates with (a name, or an attribute's name)
    # A class: its plain attribute assignments apart, as (attributes, reads, calls), and the rest
    # (bases, keywords, decorators, methods' signatures) in ``reads`` and ``calls``.
    # Each with whether its value only copies (``_copies_only``).
    members: tuple[tuple[frozenset[str], BlockReads, frozenset[str], bool], ...] = ()
    # A class whose instances keep their state to themselves: the attributes its methods set on
    # ``self``; None for any other class or statement.
    instance_attributes: frozenset[str] | None = None
    copies_only: bool = False  # an assignment whose value only names, subscripts and displays
    plain_attributes: bool = False  # a class whose attribute values only reads of them see
    settled: bool = False  # running it can only bind its names (``import_time.settled``)
    unsettled_members: frozenset[str] = frozenset()  # a class: attributes whose assignment may raise
    alias_of: str = ""  # ``s = attrs``: the name an assignment of a plain name copies


@dataclass
class ModuleFacts:
    """What one Python file binds, reads and imports, from its current source."""

    statements: list[Statement]
    blocks: dict[str, BlockReads]  # block name -> what its body reads
    from_imports: list[tuple[str, str, str]]  # top level: (absolute module, name, local alias)
    star_imports: set[str]  # absolute modules imported with ``*``
    dynamic: str  # why the module reads its own names dynamically ("" when it does not)
    dynamic_targets: set[str]  # modules its module-level code reads dynamically (getattr, vars)
    # It reads the ``__dict__`` of an object that is not a module-level name (``self``, a
    # parameter, a call's result): instance attributes, or a class's by computed name.
    object_dicts: bool = False
    imported: frozenset[str] = frozenset()  # every module its imports (in functions too) may import
    handles_modules: bool = False  # its code may be handed module objects (``_MODULE_HANDLES``)
    # The names ``from it import *`` binds (``_static_all``): its literal ``__all__``, or its
    # public names when it has none. None when they cannot be told.
    exported: tuple[str, ...] | None = None
    # Function bodies that read modules dynamically -> those modules: they observe any name there.
    dynamic_blocks: dict[str, set[str]] = field(default_factory=dict)
    # Each statement's entry in the layout (``fingerprints.layout_entry``), in order.
    layout: tuple[str, ...] = ()
    # A name its module-level code reads at import before anything binds it: importing it fails.
    undefined: str = ""


def module_facts(source: bytes, relative: str) -> ModuleFacts | None:
    """The facts of a Python file, None when it does not parse."""
    parsed = block_reads(source)
    if parsed is None:
        return None
    blocks, skeleton, bodies = parsed
    names = module_names(relative)
    package = (
        (names[0] if names else "")
        if relative.endswith("__init__.py")
        else (names[0].rpartition(".")[0] if names else "")
    )
    facts = ModuleFacts([], blocks, [], set(), "", set())
    aliases: dict[str, str] = {}  # local name -> absolute module it may be
    classes = {node.name: node for node in skeleton if isinstance(node, ast.ClassDef)}
    for statement in skeleton:
        facts.statements.append(_statement(statement, classes, bodies))
        names = sorted(facts.statements[-1].bound)
        facts.layout += (layout_entry(statement, names, "" if names else node_text([statement])),)
        for node in _module_level_imports(statement):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.partition(".")[0]
                    aliases[local] = alias.name if alias.asname else local
                continue
            base = _absolute(node, package)
            for alias in node.names:
                if alias.name == "*":
                    facts.star_imports.add(base)
                    continue
                local = alias.asname or alias.name
                facts.from_imports.append((base, alias.name, local))
                aliases[local] = f"{base}.{alias.name}" if base else alias.name
    every = [*blocks.values(), *(statement.reads for statement in facts.statements)]
    facts.imported = _imported(skeleton, bodies, names[0] if names else "", relative.endswith("__init__.py"))
    module_level = set().union(*(statement.bound for statement in facts.statements))
    facts.dynamic, _, facts.object_dicts = _dynamic_reads(every, aliases, module_level)
    facts.dynamic_targets = _dynamic_targets([statement.reads for statement in facts.statements], aliases)
    facts.dynamic_blocks = {
        block: targets for block, reads in blocks.items() if (targets := _dynamic_targets([reads], aliases))
    }
    facts.handles_modules = any((reads.names | reads.attributes) & _MODULE_HANDLES for reads in every)
    facts.exported = _static_all(skeleton, bodies, facts)
    facts.undefined = undefined_at_import(skeleton, bound_names)
    return facts


def _static_all(
    skeleton: list[ast.stmt], bodies: dict[ast.AST, list[ast.stmt]], facts: ModuleFacts
) -> tuple[str, ...] | None:
    """The names ``from it import *`` binds: the module's ``__all__`` when one top-level
    assignment binds it to a list or tuple of strings and nothing else in the module names it (no
    ``+=``, ``.append``, second binding); with no ``__all__`` at all, its public module-level
    names, unless more can land among them (a star import or dynamic access of its own, a
    ``global`` in a function)."""
    literal = None
    mentions = 0
    binds_globals = False
    for top in skeleton:
        for node in _walk_with_bodies(top, bodies):
            if isinstance(node, ast.Name) and node.id == "__all__":
                mentions += 1
            elif isinstance(node, ast.Constant) and node.value == "__all__":
                mentions += 1  # globals()["__all__"], setattr(module, "__all__", ...)
            elif isinstance(node, ast.Global):
                binds_globals = True
        value = None
        if isinstance(top, ast.Assign) and len(top.targets) == 1:
            target, value = top.targets[0], top.value
        elif isinstance(top, ast.AnnAssign):
            target, value = top.target, top.value
        if value is not None and isinstance(target, ast.Name) and target.id == "__all__":
            items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else None
            if items is not None and all(isinstance(i, ast.Constant) and isinstance(i.value, str)
                                         for i in items):
                literal = tuple(i.value for i in items)
    if mentions == 0 and not (facts.star_imports or facts.dynamic or binds_globals):
        return tuple(sorted(
            name for statement in facts.statements for name in statement.bound if not name.startswith("_")
        ))
    return literal if mentions == 1 else None


def _imported(
    skeleton: list[ast.stmt], bodies: dict[ast.AST, list[ast.stmt]], module: str, is_package: bool
) -> frozenset[str]:
    """Every module the file's import statements, wherever they are, may import."""
    statements = []
    for top in skeleton:
        for node in _walk_with_bodies(top, bodies):
            if isinstance(node, ast.Import):
                statements.append(ImportStatement(tuple(alias.name for alias in node.names)))
            elif isinstance(node, ast.ImportFrom):
                names = tuple(alias.name for alias in node.names)
                statements.append(ImportStatement(names, node.module or "", node.level or 0))
    return frozenset(imported_names(statements, module, is_package))


def _module_level_imports(statement: ast.stmt) -> list[ast.Import | ast.ImportFrom]:
    """The imports a top-level statement runs at import (inside ``if``/``try``, not in a def)."""
    found = []
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.expr)):
            stack.extend(ast.iter_child_nodes(node))
    return found


def _absolute(statement: ast.ImportFrom, package: str) -> str:
    if not statement.level:
        return statement.module or ""
    parts = package.split(".") if package else []
    parts = parts[: len(parts) - (statement.level - 1)] if statement.level > 1 else parts
    return ".".join(filter(None, [*parts, statement.module or ""]))


def _statement(
    statement: ast.stmt, classes: dict[str, ast.ClassDef], bodies: dict[ast.AST, list[ast.stmt]]
) -> Statement:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        kind = "def"
    elif isinstance(statement, ast.ClassDef):
        kind = "class"
    elif isinstance(statement, (ast.Import, ast.ImportFrom)):
        kind = "import"
    elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        kind = "value"
    else:
        kind = "other"
    members = []
    head: list[ast.AST] = [statement]
    if isinstance(statement, ast.ClassDef):
        plain = class_members(statement)
        members = [
            (frozenset(bound_names(s)), BlockReads.of([s]), _calls([s]), _copies_only(s)) for s in plain
        ]
        rest = [s for s in statement.body if s not in plain]
        head = [*statement.bases, *statement.keywords, *statement.decorator_list, *rest]
    return Statement(
        frozenset(bound_names(statement)),
        BlockReads.of(head),
        kind,
        _has_effects(statement, classes),
        _calls(head),
        tuple(members),
        _instance_attributes(statement, classes, bodies) if kind == "class" else None,
        kind == "value" and _copies_only(statement),
        isinstance(statement, ast.ClassDef) and _plain_attributes(statement, classes),
        settled(statement),
        frozenset(
            name for member in class_members(statement) if not settled(member) for name in bound_names(member)
        ) if isinstance(statement, ast.ClassDef) else frozenset(),
        _alias_of(statement),
    )


def _alias_of(statement: ast.stmt) -> str:
    """``s = attributes = attrs``: the plain name an assignment copies ("" for any other)."""
    value = statement.value if isinstance(statement, ast.Assign) else None
    return value.id if isinstance(value, ast.Name) else ""


# Bases outside the module that never read their subclasses' attribute values.
_PLAIN_BASES = frozenset({"object", "Generic", "Exception"})


def _plain_attributes(
    statement: ast.ClassDef, classes: dict[str, ast.ClassDef], seen: frozenset[str] = frozenset()
) -> bool:
    """True when only code that reads them sees the class's attribute values: no class decorator
    (``dataclass``), metaclass or class keyword, no ``__init_subclass__`` (it sees subclasses'),
    and bases among ``_PLAIN_BASES`` (``Generic[T]`` too) or such classes of the same module
    (not an ``Enum``, a ``NamedTuple`` or a model whose metaclass reads them)."""
    if statement.decorator_list or statement.keywords:
        return False
    if any(isinstance(s, ast.FunctionDef) and s.name == "__init_subclass__" for s in statement.body):
        return False
    for base in statement.bases:
        base = base.value if isinstance(base, ast.Subscript) else base
        name = base.id if isinstance(base, ast.Name) else ""
        if name in classes and name not in seen:
            if not _plain_attributes(classes[name], classes, seen | {statement.name}):
                return False
        elif name not in _PLAIN_BASES and not (isinstance(base, ast.Attribute) and base.attr == "Generic"):
            return False
    return True


# Value expressions that pass objects along without running any of their code.
_COPYING_NODES = (
    ast.Name, ast.Attribute, ast.Subscript, ast.Slice, ast.List, ast.Tuple, ast.Set, ast.Dict,
    ast.Starred, ast.Constant, ast.expr_context,
)


def _copies_only(statement: ast.stmt) -> bool:
    value = getattr(statement, "value", None)
    return value is not None and all(isinstance(node, _COPYING_NODES) for node in ast.walk(value))


# Method decorators that leave the method's code the project's own (a property's getter runs
# the getter's body; a cached property keeps its value under the method's name).
_PLAIN_METHOD_DECORATORS = frozenset(
    {"property", "cached_property", "classmethod", "staticmethod", "abstractmethod", "override",
     "setter", "getter", "deleter"}
)


def _instance_attributes(
    statement: ast.ClassDef,
    classes: dict[str, ast.ClassDef],
    bodies: dict[ast.AST, list[ast.stmt]],
    seen: frozenset[str] = frozenset(),
) -> frozenset[str] | None:
    """The attributes the class's methods (and its bases' in the same module) set on their
    first parameter, and its decorated methods' names; None when the class is decorated, has a
    metaclass or a base from elsewhere (generated code: ``__eq__``, ``__repr__``), or when an
    instance's state can leave it other ways (``global``/``nonlocal``, ``setattr``,
    ``__dict__``, ``vars``, a method decorator other than ``_PLAIN_METHOD_DECORATORS``)."""
    if statement.decorator_list or statement.keywords:
        return None
    found: set[str] = set()
    for base in statement.bases:
        name = base.id if isinstance(base, ast.Name) else ""
        if name == "object":
            continue
        if name not in classes or name in seen:
            return None
        inherited = _instance_attributes(classes[name], classes, bodies, seen | {statement.name})
        if inherited is None:
            return None
        found |= inherited
    for method in statement.body:
        if isinstance(method, ast.ClassDef):
            return None
        if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if not method.args.args and not method.decorator_list:
            return None
        if any(_callee(decorator) not in _PLAIN_METHOD_DECORATORS for decorator in method.decorator_list):
            return None
        if method.decorator_list:
            found.add(method.name)
        me = method.args.args[0].arg if method.args.args else ""
        for node in _walk_with_bodies(method, bodies):
            if isinstance(node, (ast.Global, ast.Nonlocal)):
                return None
            if isinstance(node, ast.Call) and _callee(node.func) in ("setattr", "vars", "__setattr__"):
                return None
            if isinstance(node, ast.Attribute):
                if node.attr == "__dict__":
                    return None
                stored = not isinstance(node.ctx, ast.Load)
                if stored and isinstance(node.value, ast.Name) and node.value.id == me:
                    found.add(node.attr)
    return frozenset(found)


def _walk_with_bodies(top: ast.AST, bodies: dict[ast.AST, list[ast.stmt]]):
    """``ast.walk`` of ``top`` with each def's own body put back (the skeleton has ``pass``)."""
    stack = [top]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(ast.iter_child_nodes(node))
        stack.extend(bodies.get(node, ()))


def _calls(nodes: list[ast.AST]) -> frozenset[str]:
    """What the nodes call or decorate with."""
    found: set[str] = set()
    for top in nodes:
        for node in ast.walk(top):
            if isinstance(node, ast.Call):
                found.add(_callee(node.func))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.update(_callee(decorator) for decorator in node.decorator_list)
    return frozenset(found - {""})


def _has_effects(
    statement: ast.stmt, classes: dict[str, ast.ClassDef], seen: frozenset[str] = frozenset()
) -> bool:
    """True when running the statement may do more than bind its names: a call (beyond
    PURE_CALLS), a decorator, a metaclass or class keyword, ``__init_subclass__``, or a base
    class that is not a plain class of the same module (its metaclass could register it)."""
    for node in ast.walk(statement):
        if isinstance(node, ast.Call) and _callee(node.func) not in PURE_CALLS and not is_pytest_mark(node):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not all(
            map(is_pytest_mark, node.decorator_list)
        ):
            return True
        if isinstance(node, ast.FunctionDef) and node.name == "__init_subclass__":
            return True
        if isinstance(node, ast.ClassDef):
            if node.keywords:
                return True
            for base in node.bases:
                name = base.id if isinstance(base, ast.Name) else ""
                if name == "object":
                    continue
                if name not in classes or name in seen or _has_effects(classes[name], classes, seen | {name}):
                    return True
    return False


def _callee(func: ast.expr) -> str:
    if isinstance(func, ast.Call):
        return _callee(func.func)
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _dynamic_reads(
    reads: list[BlockReads], aliases: dict[str, str], module_level: set[str]
) -> tuple[str, set[str], bool]:
    """Why the module reads its own globals dynamically, the modules it reads that way, and
    whether it reads the ``__dict__`` of objects that are not module-level names."""
    why = ""
    targets: set[str] = set()
    object_dicts = False
    for way in sorted(set().union(*(r.dynamic for r in reads))):
        kind, _, name = way.partition("@")
        if name in aliases:
            targets.add(aliases[name])
        elif _object_dict(way, module_level):
            object_dicts = True  # record.__dict__, self.__dict__: never the module's globals
        elif not name or kind == "__dict__":
            why = why or kind
    return why, targets, object_dicts


def _dynamic_targets(reads: list[BlockReads], aliases: dict[str, str]) -> set[str]:
    """The modules these reads reach by a computed name (``getattr(mod, name)``, ``vars(mod)``)."""
    return {
        aliases[name] for r in reads for way in r.dynamic if (name := way.partition("@")[2]) in aliases
    }


def _object_dict(way: str, module_level: set[str]) -> bool:
    """Whether a dynamic read (``BlockReads.dynamic``) is the ``__dict__`` of an object that is
    not a module-level name: ``self``, a parameter, a call's result."""
    kind, _, name = way.partition("@")
    return kind == "__dict__" and bool(name) and (name == "()" or name not in module_level)


def _reads_object_dicts(reads: BlockReads, module_level: set[str]) -> bool:
    return any(_object_dict(way, module_level) for way in reads.dynamic)


@dataclass
class Impact:
    """What an edit of one module's module-level code changed, name by name."""

    origin: str
    names: set[str] = field(default_factory=set)  # the origin's changed names
    fallback: str = ""  # non-empty: the names cannot be followed; every importer is selected
    changed: dict[str, set[str]] = field(default_factory=dict)  # file -> changed names (derived too)
    definitions: dict[str, set[str]] = field(default_factory=dict)  # file -> changed defs and classes
    members: set[str] = field(default_factory=set)  # class attributes derived from a changed name
    derived_members: set[str] = field(default_factory=set)  # those of members that no edit changed
    widen: str = ""  # non-empty: every test that ran the origin's code is selected too
    # file -> classes of which an instance made at import holds state from the change
    instances: dict[str, set[str]] = field(default_factory=dict)
    holders: dict[str, set[str]] = field(default_factory=dict)  # file -> names holding such instances
    # Non-empty (a changed class of the origin): the origin's functions that read objects'
    # ``__dict__`` observe the change too, since such an object may be that class.
    dict_readers: str = ""
    # Function bodies of the origin the edit changed (``body_impact``): code that calls them at
    # import derives its names from them.
    bodies: set[str] = field(default_factory=set)
    # A def or class statement changed (its signature, decorators, bases, attributes: not only
    # values, nor only a function body): a test module that calls it at import may now fail to.
    code_changed: bool = False
    # Test modules whose import-time code calls into changed code -> why all their tests run.
    test_modules: dict[str, str] = field(default_factory=dict)
    # Names the edit added to a test module that pytest collects as tests: they run (``origin::NAME``).
    new_tests: list[str] = field(default_factory=list)
    # class of the origin -> its changed attributes, when only their values changed: the class is
    # then not a changed name, its attributes are (``members``)
    attributes: dict[str, set[str]] = field(default_factory=dict)
    # file -> the names of those classes and of their subclasses there (imported ones too)
    family: dict[str, set[str]] = field(default_factory=dict)

    def observers(self, relative: str, facts: ModuleFacts) -> dict[str, str]:
        """The blocks of ``relative`` that observe the change -> why."""
        everywhere = self.members | _readable(self.changed, relative, facts)
        own = self.changed.get(relative, set())
        defined = self.definitions.get(relative, set())
        instances = self.instances.get(relative, set())
        family = self.family.get(relative, set())  # its names of the edited classes and subclasses
        kin = _readable(self.family, relative, facts)  # those it may read as attributes
        found: dict[str, str] = {}
        for block, reads in facts.blocks.items():
            top = block.partition(".")[0].partition("#")[0]
            if top in defined:
                found[block] = f"the definition of {top} in {relative} changed ({self.edit()})"
            elif top in instances:
                found[block] = (
                    f"{relative}::{block} runs on an instance of {top} made at import ({self.edit()})"
                )
            elif hit := sorted((reads.names & own) | ((reads.attributes | reads.mentions) & everywhere)):
                found[block] = f"{relative}::{block} reads {hit[0]} ({self.edit()})"
            elif named := _names_kin(top, reads, family, kin):
                found[block] = (
                    f"{relative}::{block} runs or names {named}, whose class attributes changed "
                    f"({self.edit()})"
                )
        modules = {name for rel, names in self.changed.items() if names for name in module_names(rel)}
        for block, targets in facts.dynamic_blocks.items():
            if block not in found and (read := sorted(targets & modules)):
                found[block] = f"{relative}::{block} reads {read[0]} by computed names ({self.edit()})"
        if self.dict_readers and relative == self.origin:
            module_level = set().union(*(statement.bound for statement in facts.statements))
            for block, reads in facts.blocks.items():
                if block not in found and _reads_object_dicts(reads, module_level):
                    found[block] = (
                        f"{relative}::{block} reads objects' __dict__ (a class's too) and "
                        f"{self.dict_readers} changed ({self.edit()})"
                    )
        if self.attributes and relative == self.origin:
            for block, reads in facts.blocks.items():
                if block not in found and any(way.startswith(_BY_COMPUTED_NAME) for way in reads.dynamic):
                    found[block] = (
                        f"{relative}::{block} reads attributes by a computed name and "
                        f"{sorted(self.attributes)[0]}'s changed ({self.edit()})"
                    )
        if own:
            found["<module>"] = f"module-level code of {relative} changed ({self.edit()})"
        return found

    def edit(self) -> str:
        """What the edit changed, for reasons: the origin and its first changed names."""
        edited = sorted(self.names) + sorted(
            f"{cls}.{name}" for cls, names in self.attributes.items() for name in names
        ) + sorted(f"the body of {block}" for block in self.bodies)
        shown = ", ".join(edited[:3]) + (" ..." if len(edited) > 3 else "")
        return f"{self.origin}: {shown} changed"


def _names_kin(top: str, reads: BlockReads, family: set[str], kin: set[str]) -> str:
    """The edited class (or subclass) a block is code of or names, "" if none."""
    if top in family:
        return top
    hit = sorted((reads.names & family) | ((reads.attributes | reads.mentions) & kin))
    return hit[0] if hit else ""


def changed_names(
    before: dict[str, str], now: dict[str, str], facts: ModuleFacts | None = None
) -> set[str] | str:
    """The origin's changed module-level names (new ones too), or why they cannot be told.
    Statements that bind only new names may have been inserted anywhere: with the origin's
    ``facts``, a layout that is the recorded one without them still follows by name."""
    if LAYOUT_KEY not in before or LAYOUT_KEY not in now:
        return "its names were not fingerprinted when the tests ran"
    if before[LAYOUT_KEY] != now[LAYOUT_KEY] and (facts is None or not _only_inserted(before, facts)):
        return (
            "module-level statements were removed or reordered, added other than as assignments, "
            "defs or classes of new names, or one that binds no name changed"
        )
    keys = {k for k in before.keys() | now.keys() if is_name_key(k) and k != LAYOUT_KEY}
    return {k[len(NAME_PREFIX) :] for k in keys if before.get(k) != now.get(k) and "." not in k}


def _only_inserted(before: dict[str, str], facts: ModuleFacts) -> bool:
    """Whether the module's layout is the recorded one (``before``) plus assignments, defs and
    classes that bind only names nothing bound when the tests ran, and nothing else binds now."""
    if len(facts.layout) != len(facts.statements):
        return False
    recorded = {key[len(NAME_PREFIX) :] for key in before if is_name_key(key) and key != LAYOUT_KEY}
    binders = Counter(name for statement in facts.statements for name in statement.bound)
    kept = [
        entry for statement, entry in zip(facts.statements, facts.layout, strict=True)
        if not (
            statement.kind in ("value", "def", "class") and statement.bound
            and not statement.bound & recorded and all(binders[name] == 1 for name in statement.bound)
        )
    ]
    return len(kept) < len(facts.layout) and layout_hash(kept) == before[LAYOUT_KEY]


def changed_members(before: dict[str, str], now: dict[str, str], cls: str) -> set[str] | None:
    """The attributes of class ``cls`` whose assignments changed, when nothing else of the class
    did (``fingerprints.member_hashes``); None otherwise, or when it was not hashed so."""
    head = f"{NAME_PREFIX}{cls}."
    if head not in before or before.get(head) != now.get(head):
        return None
    keys = {k for k in before.keys() | now.keys() if k.startswith(head) and k != head}
    return {k[len(head) :] for k in keys if before.get(k) != now.get(k)}


def _attribute_edit(statement: Statement, members: set[str] | None) -> set[str] | None:
    """The attributes an edit of a class's attribute values changed (and those whose assignment
    reads a changed one); None when the class changed as a whole: other than in attribute values,
    a class whose attribute values more than their readers see (``plain_attributes``), a dunder or
    a name pytest reads, or a head (a method's default, a decorator) that reads a changed one."""
    if not members or not statement.plain_attributes:
        return None
    changed = set(members)
    growing = True
    while growing:
        growing = False
        for names, reads, _, _ in statement.members:
            if reads.names & changed and not names <= changed:
                changed |= names
                growing = True
    if statement.reads.names & changed or any(_implicit(name) for name in changed):
        return None
    return changed


def _implicit(name: str, relative: str = "") -> bool:
    """A name Python or pytest reads by itself, not by name (in a test module or conftest.py,
    its hooks and xunit-style setups too)."""
    if relative and is_test_file(relative) and (name.startswith("pytest_") or name in _XUNIT_NAMES):
        return True
    return name in _IMPLICIT_NAMES or (name.startswith("__") and name.endswith("__"))


def _collected_by_default(statement: Statement, name: str) -> bool:
    """A def or class pytest collects as a test by its default names (``test*``, ``Test*``)."""
    return (statement.kind == "def" and name.startswith("test")) or (
        statement.kind == "class" and name.startswith("Test")
    )


def module_impact(
    origin: str,
    before: dict[str, str],
    now: dict[str, str],
    python_files: list[str],
    facts_of: Callable[[str], ModuleFacts | None],
    tests_named_by_default: bool = True,
) -> Impact:
    """Follow the origin's changed names through every file of ``python_files``.
    ``tests_named_by_default``: pytest collects ``test*`` functions and ``Test*`` classes (the
    project's settings name no others), so a new name in a test module that does not look so is
    not a test."""
    origin_facts = facts_of(origin)
    conftest = os.path.basename(origin) == "conftest.py"  # its new fixtures may override others
    names = changed_names(before, now, None if conftest else origin_facts)
    if isinstance(names, str):
        return Impact(origin, fallback=names)
    impact = Impact(origin, names)
    if origin_facts is None:
        impact.fallback = "it does not parse"
        return impact
    if origin_facts.undefined:
        impact.fallback = (
            f"it reads {origin_facts.undefined} at import before anything binds it: importing it fails"
        )
        return impact
    implicit = sorted(n for n in names if _implicit(n, origin))
    if implicit:
        impact.fallback = f"{implicit[0]} is read by Python or pytest, not by name"
        return impact
    new = {name for name in names if f"{NAME_PREFIX}{name}" not in before}
    if new and is_test_file(origin):
        if not tests_named_by_default:
            impact.fallback = (
                f"{sorted(new)[0]} is new and pytest's settings name the tests (python_functions, "
                "python_classes): it may be one"
            )
            return impact
        impact.new_tests = sorted(
            name for statement in origin_facts.statements for name in statement.bound & new
            if _collected_by_default(statement, name)
        )
    if origin_facts.dynamic:
        impact.fallback = f"it reads its own names dynamically ({origin_facts.dynamic})"
        return impact
    classes = sorted(n for s in origin_facts.statements if s.kind == "class" for n in s.bound & names)
    _follow_attributes(impact, origin_facts, before, now)
    if classes and origin_facts.object_dicts:
        module_level = set().union(*(statement.bound for statement in origin_facts.statements))
        if any(_reads_object_dicts(statement.reads, module_level) for statement in origin_facts.statements):
            impact.fallback = (
                f"{classes[0]} changed and module-level code reads objects' __dict__ (a class's too)"
            )
            return impact
        impact.dict_readers = classes[0]
    for statement in origin_facts.statements:
        if not statement.bound & impact.names:
            continue
        name = sorted(statement.bound & impact.names)[0]
        if statement.kind == "import":
            impact.fallback = f"an import changed ({name})"
            return impact
        if statement.kind == "other":
            impact.fallback = f"{name} is bound by a statement other than an assignment, def or class"
            return impact
        if statement.effects:
            impact.widen = f"the statement binding {name} makes calls{_EFFECTS}"
        elif not statement.settled:
            impact.widen = impact.widen or f"the statement binding {name} may raise at import{_RAISES}"
    impact.code_changed = any(
        statement.kind in ("def", "class") and statement.bound & impact.names
        for statement in origin_facts.statements
    )
    _propagate(impact, python_files, facts_of)
    return impact


def body_impact(
    origin: str, bodies: set[str], python_files: list[str], facts_of: Callable[[str], ModuleFacts | None]
) -> Impact:
    """What an edit of function bodies of ``origin`` changed in code that runs at import: a
    module-level statement of any module that calls one of them (or a function or method whose
    code does, transitively) binds derived names (``VAL = make()``, a class decorated at import),
    which their readers observe. A test that runs such a function runs its new body anyway; one
    that reads only what it returned at import is found only so. (That a test module's import
    may fail on the new body is not followed: the reach is by whole classes, and a test module
    that subclasses one of them would run whole on every edit of any of its methods.)"""
    impact = Impact(origin, bodies=set(bodies))
    if facts_of(origin) is None:
        impact.fallback = "it does not parse"
        return impact
    _propagate(impact, python_files, facts_of)
    return impact


def _follow_attributes(
    impact: Impact, facts: ModuleFacts, before: dict[str, str], now: dict[str, str]
) -> None:
    """Changed classes of the origin whose attribute values alone changed (``_attribute_edit``):
    their changed attributes become ``members`` in place of the class's name, and widen when an
    assignment of one makes calls."""
    for statement in facts.statements:
        if statement.kind != "class" or not statement.bound & impact.names:
            continue
        cls = sorted(statement.bound)[0]
        attributes = _attribute_edit(statement, changed_members(before, now, cls))
        if attributes is None:
            continue
        impact.names.discard(cls)
        impact.attributes[cls] = attributes
        impact.members |= attributes
        for names, _, calls, _ in statement.members:
            binding = f"the statement binding {cls}.{sorted(names)[0]}"
            if names & attributes and calls - PURE_CALLS:
                impact.widen = impact.widen or f"{binding} makes calls{_EFFECTS}"
            elif names & attributes & statement.unsettled_members:
                impact.widen = impact.widen or f"{binding} may raise at import{_RAISES}"


def _propagate(impact: Impact, python_files: list[str], facts_of) -> None:
    """Derived names and definitions, module by module, until nothing changes."""
    facts = {rel: f for rel in python_files if (f := facts_of(rel)) is not None}
    files_of: dict[str, set[str]] = {}
    for rel in facts:
        for name in module_names(rel):
            files_of.setdefault(name, set()).add(rel)
    facts = {rel: _star_imports_by_name(f, facts, files_of) for rel, f in facts.items()}
    changed = impact.changed
    changed[impact.origin] = set(impact.names)
    tainted: dict[str, set[str]] = {}  # file -> defs and classes whose code reads a changed name
    tainted[impact.origin] = set()
    methods: set[str] = set()  # names of the methods among them (``X = Cls.build()``)
    for block in impact.bodies:  # changed function bodies: their code, not their names
        top, _, method = block.partition("#")[0].partition(".")
        tainted[impact.origin].add(top)
        if method:
            methods.add(method.rpartition(".")[2])
    self_readers: set[str] = set()  # methods that read edited attributes on their own instance
    constructing = _construction_methods(facts)
    holders = impact.holders
    family = impact.family
    family[impact.origin] = set(impact.attributes)

    def progress(rel: str) -> tuple[int, ...]:
        return (len(changed[rel]), len(tainted[rel]), len(tainted[impact.origin]), len(impact.members),
                len(holders[rel]), _count(impact.instances), len(methods), len(self_readers),
                len(family[rel]))

    growing = True
    while growing and not impact.fallback:
        growing = False
        for rel, f in facts.items():
            changed_everywhere = impact.members | _readable(changed, rel, f)
            everywhere = changed_everywhere | _readable(tainted, rel, f)
            own = changed.setdefault(rel, set())
            reached = own | tainted.setdefault(rel, set())
            held = holders.setdefault(rel, set())
            kin = family.setdefault(rel, set())
            before = progress(rel)
            _follow_family(f, rel, kin, family, files_of)
            for module, name, alias in f.from_imports:
                for target in files_of.get(module, ()):
                    if name in changed.get(target, ()):
                        own.add(alias)
                    elif name in tainted.get(target, ()):
                        tainted[rel].add(alias)
                    elif name in holders.get(target, ()):
                        held.add(alias)
            for module in f.star_imports | f.dynamic_targets:
                if any(changed.get(t) for t in files_of.get(module, ())):
                    impact.fallback = f"{rel} reads {module} dynamically or imports * from it"
                    return
            inherited = set().union(*impact.attributes.values()) - impact.derived_members
            changed_modules = {name for r, names in changed.items() if names for name in module_names(r)}
            for block, reads in f.blocks.items():
                if _reads_changed(reads, reached, everywhere, inherited) or f.dynamic_blocks.get(
                    block, set()
                ) & changed_modules:
                    top, _, method = block.partition("#")[0].partition(".")
                    tainted[rel].add(top)
                    if method:
                        methods.add(method.rpartition(".")[2])
                elif reads.self_only & inherited:
                    method = block.partition("#")[0].rpartition(".")[2]
                    self_readers.add(method)
                    if method in constructing:  # the edited class's instances hold what it reads
                        tainted[impact.origin] |= {
                            cls for cls, names in impact.attributes.items() if names & reads.self_only
                        }
            for statement in f.statements:  # a subclass runs the code of its bases
                if statement.kind == "class" and (
                    statement.reads.names & tainted[rel] or statement.reads.attributes & everywhere
                ):
                    tainted[rel] |= statement.bound
            for statement in f.statements:
                if statement.kind == "import":  # followed above, by what it imports
                    continue
                # A def or class whose code reads a changed name matters here only when called.
                hit = (
                    statement.reads.names & own
                    or statement.reads.attributes & changed_everywhere
                    or statement.calls & (tainted[rel] | everywhere)
                    or _calls_method_of(statement, methods, tainted[rel] | everywhere)
                    or statement.calls & self_readers
                )
                if statement.bound <= own:
                    continue
                if not hit:
                    if statement.alias_of in tainted[rel]:
                        tainted[rel] |= statement.bound  # ``s = attrs``: another name for that code
                        continue
                    if statement.bound and statement.reads.names & held:
                        if statement.copies_only:  # passes the instances along
                            held |= statement.bound
                        else:  # computes with them at import
                            own |= statement.bound
                            if statement.effects:
                                _derived_with_calls(impact, rel, sorted(statement.bound)[0])
                        continue
                    _derive_members(
                        impact, rel, statement, own, held, changed_everywhere, tainted[rel] | everywhere
                    )
                    continue
                made = _instances_made(
                    statement, rel, f, own, changed_everywhere, tainted[rel] | everywhere, facts, files_of,
                    lambda target, name: name in changed.get(target, ()) or name in tainted.get(target, ()),
                )
                if made is not None:
                    for target, name, attributes in made:
                        impact.instances.setdefault(target, set()).add(name)
                        impact.members |= attributes
                        impact.derived_members |= attributes
                    held |= statement.bound - own
                    if statement.effects:
                        _derived_with_calls(impact, rel, sorted(statement.bound)[0])
                    continue
                if statement.kind in ("value", "def", "class") or statement.bound:
                    own |= statement.bound
                    if statement.effects or statement.kind == "other":
                        _derived_with_calls(impact, rel, sorted(statement.bound)[0])
                else:
                    impact.fallback = f"module-level code of {rel} that binds no name reads {sorted(hit)[0]}"
                    return
            growing |= before != progress(rel)
    for rel, own in changed.items():
        if rel in facts:
            kinds = {name for s in facts[rel].statements if s.kind in ("def", "class") for name in s.bound}
            impact.definitions[rel] = own & kinds
    impact.changed = {rel: own for rel, own in changed.items() if own}


def _derived_with_calls(impact: Impact, rel: str, name: str) -> None:
    """``rel`` derives ``name`` at import by calls that reach the change: their effects may reach
    past it (every test that ran the origin's code is selected); when they run changed code, an
    error there fails the import of ``rel``: a test module's every test then fails, so they all
    run."""
    impact.widen = impact.widen or f"{rel} derives {name} with calls{_EFFECTS}"
    if _sealed(rel) and impact.code_changed:
        impact.test_modules.setdefault(
            rel, f"{rel} derives {name} at import with calls that reach the change ({impact.edit()}): "
            "an error there fails every test of the file"
        )


def _star_imports_by_name(
    f: ModuleFacts, facts: dict[str, ModuleFacts], files_of: dict[str, set[str]]
) -> ModuleFacts:
    """``f`` with each ``from mod import *`` whose module's exported names are known
    (``ModuleFacts.exported``) read as ``from mod import`` those names; the others stay star
    imports (they fall back)."""
    if not f.star_imports:
        return f
    by_name, unresolved = list(f.from_imports), set()
    for module in f.star_imports:
        targets = [facts.get(target) for target in files_of.get(module, ())]
        if not targets or any(t is None or t.exported is None for t in targets):
            unresolved.add(module)
            continue
        by_name += [(module, name, name) for t in targets for name in t.exported]
    return dataclasses.replace(f, from_imports=by_name, star_imports=unresolved)


def _follow_family(
    f: ModuleFacts, rel: str, kin: set[str], family: dict[str, set[str]], files_of: dict[str, set[str]]
) -> None:
    """The names in ``rel`` of the classes whose attributes an edit changed and of their
    subclasses: imported by name, or a class statement whose bases name one."""
    for module, name, alias in f.from_imports:
        if any(name in family.get(target, ()) for target in files_of.get(module, ())):
            kin.add(alias)
    readable = _readable(family, rel, f)
    for statement in f.statements:
        bases = statement.reads
        if statement.kind == "class" and (bases.names & kin or bases.attributes & readable):
            kin |= statement.bound


def _construction_methods(facts: dict[str, ModuleFacts]) -> set[str]:
    """Names of the methods that may run when an instance is made: ``__init__`` and the like, and
    the methods and properties they read as attributes, transitively (any class's, by name)."""
    found = {"__init__", "__new__", "__post_init__", "__init_subclass__", "__set_name__"}
    by_method: dict[str, set[str]] = {}
    for f in facts.values():
        for block, reads in f.blocks.items():
            method = block.partition("#")[0].rpartition(".")[2]
            by_method.setdefault(method, set()).update(reads.attributes)
    queue = list(found)
    while queue:
        for name in by_method.get(queue.pop(), ()):
            if name not in found:
                found.add(name)
                queue.append(name)
    return found


def _calls_method_of(statement: Statement, methods: set[str], reached: set[str]) -> bool:
    """Whether the statement calls a method whose code reads a changed name, on a name that
    reached the change (``Cls.build()``, ``mod.Cls.build()``)."""
    reads = statement.reads
    return bool(statement.calls & methods and (reads.names | reads.attributes) & reached)


def _reads_changed(reads: BlockReads, reached: set[str], everywhere: set[str], inherited: set[str]) -> bool:
    """Whether a block reads a changed name, not counting a method's reads of edited attributes
    on its own instance or class (``self.NAME``, ``inherited``): they see the edit only in
    instances of the edited class and its subclasses, so the edited class is tainted instead."""
    on_others = (reads.attributes & everywhere) - (reads.self_only & inherited)
    return bool(reads.names & reached or reads.mentions & everywhere or on_others)


def _readable(by_file: dict[str, set[str]], relative: str, facts: ModuleFacts) -> set[str]:
    """The names of ``by_file`` (file -> its names) that code of ``relative`` may read as
    attributes or identifier strings (``mod.NAME``, ``getattr(mod, "NAME")``): any module's, but a
    test module's (``_sealed``) only from itself, from a file that imports it, or from code that
    may be handed modules (``facts.handles_modules``)."""
    found: set[str] = set()
    for rel, names in by_file.items():
        if names and (
            rel == relative
            or facts.handles_modules
            or not _sealed(rel)
            or any(name in facts.imported for name in module_names(rel))
        ):
            found |= names
    return found


@functools.cache
def _sealed(relative: str) -> bool:
    """A test module (not a conftest.py): pytest imports it by itself and hands it to no code but
    its own tests' fixtures and hooks (``request.module``), so other code reaches its names only by
    importing it or by being handed modules."""
    return is_test_file(relative) and relative.rpartition("/")[2] != "conftest.py"


def _count(by_file: dict[str, set[str]]) -> int:
    return sum(map(len, by_file.values()))


def _instances_made(
    statement: Statement, rel: str, f: ModuleFacts, own: set[str], attributes: set[str], called: set[str],
    facts: dict[str, ModuleFacts], files_of: dict[str, set[str]], reached: Callable[[str, str], bool],
) -> list[tuple[str, str, frozenset[str]]] | None:
    """For an assignment that reaches the change only by calling classes whose instances keep
    their state to themselves: each such class (its file, name, instance attributes); else None.
    ``called`` holds names from every module: a callee must be a class that the change reached
    (``reached(file, name)``), not another of the same name."""
    if statement.kind != "value" or statement.reads.attributes & attributes:
        return None
    callees = statement.calls & (called | own)
    made = []
    for callee in callees:
        found = _plain_class(callee, rel, f, facts, files_of)
        if found is None or not reached(found[0], found[1]):
            return None
        made.append(found)
    if not made or (statement.reads.names & own) - callees:
        return None
    return made


def _plain_class(
    name: str, rel: str, f: ModuleFacts, facts: dict[str, ModuleFacts], files_of: dict[str, set[str]]
) -> tuple[str, str, frozenset[str]] | None:
    """The class ``name`` stands for in ``rel`` (its own, or imported by name), when its
    instances keep their state to themselves."""
    places = [(rel, name)] + [
        (target, imported)
        for module, imported, alias in f.from_imports if alias == name
        for target in files_of.get(module, ())
    ]
    for target, real in places:
        for statement in facts[target].statements if target in facts else ():
            if statement.kind == "class" and real in statement.bound:
                attributes = statement.instance_attributes
                return None if attributes is None else (target, real, attributes)
    return None


def _derive_members(
    impact: Impact, rel: str, statement: Statement, own, held, attributes, called
) -> None:
    """A class whose plain attribute assignment reads a changed name: that attribute changed (read
    as ``x.NAME`` wherever it is inherited), not the class; its metaclass, if any, widens. One
    that computes with a name holding instances (``held``) changed too; one that copies it not."""
    for names, reads, calls, copies in statement.members:
        computes_with_held = bool(reads.names & held) and not copies
        if reads.names & own or computes_with_held or reads.attributes & attributes or calls & called:
            impact.members |= names
            impact.derived_members |= names
            if statement.effects or calls - PURE_CALLS:
                impact.widen = (
                    impact.widen
                    or f"{rel} derives {sorted(statement.bound)[0]}.{sorted(names)[0]} with calls{_EFFECTS}"
                )
