"""Which executed code can observe an edit of a module's module-level code, name by name.

An edit of module-level code (a constant, a dict, a default argument, a class attribute) changes
the names its statements bind (``fingerprints.name_hashes`` tells which, from the hashes recorded
before and now). Those names are observed by:

- code that reads them: a function or method body (any module) whose AST names one, as a plain
  name in its own module or through a ``from mod import NAME`` alias, or as an attribute
  (``mod.NAME``, ``self.NAME``) or an identifier string (``getattr(x, "NAME")``) anywhere;
- for a changed def or class, the code of its body (its methods), and through the class
  statements that name it, its subclasses;
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

It cannot tell, and says so (the selection then falls back to every importer), when a name can
be read without being named (``globals()``, ``vars()``, ``exec``, ``eval``, ``__dict__`` in the
defining module; ``getattr`` with a computed name, ``vars()`` or ``__dict__`` on the module from
another; ``import *``), when the changed statement binds no name or is an import or a compound
statement, and for names Python or pytest read by themselves (dunders, ``pytestmark``). When a
changed statement makes calls, decorates, or derives a class from bases, its effects may reach
past the names it binds (a registry, a metaclass): every test that ran code of the edited module
is selected too, the rule pytest-testmon applies to every edit.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from testwatch.select.fingerprints import (
    LAYOUT_KEY,
    NAME_PREFIX,
    BlockReads,
    block_reads,
    bound_names,
    is_name_key,
)
from testwatch.select.import_graph import module_names

# Calls with no effect beyond their result, allowed in a statement read name by name.
PURE_CALLS = frozenset(
    {
        "bool",
        "bytes",
        "cast",
        "chr",
        "classmethod",
        "compile",
        "dict",
        "enumerate",
        "float",
        "frozenset",
        "int",
        "len",
        "list",
        "object",
        "ord",
        "property",
        "range",
        "set",
        "sorted",
        "staticmethod",
        "str",
        "Struct",
        "timedelta",
        "timezone",
        "tuple",
        "TypeVar",
        "zip",
        "encode",
        "decode",
        "format",
        "join",
    }
)
# Names that code outside the project reads from a module by itself.
_IMPLICIT_NAMES = frozenset({"pytestmark", "pytest_plugins", "collect_ignore", "collect_ignore_glob"})
_DYNAMIC_CALLS = frozenset({"globals", "vars", "exec", "eval"})


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


@dataclass
class ModuleFacts:
    """What one Python file binds, reads and imports, from its current source."""

    statements: list[Statement]
    blocks: dict[str, BlockReads]  # block name -> what its body reads
    from_imports: list[tuple[str, str, str]]  # top level: (absolute module, name, local alias)
    star_imports: set[str]  # absolute modules imported with ``*``
    dynamic: str  # why the module reads its own names dynamically ("" when it does not)
    dynamic_targets: set[str]  # modules it reads dynamically (getattr with a computed name, vars)
    # It reads the ``__dict__`` of an object that is not a module-level name (``self``, a
    # parameter, a call's result): instance attributes, or a class's by computed name.
    object_dicts: bool = False


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
    module_level = set().union(*(statement.bound for statement in facts.statements))
    facts.dynamic, facts.dynamic_targets, facts.object_dicts = _dynamic_reads(every, aliases, module_level)
    return facts


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
        plain = [s for s in statement.body if isinstance(s, (ast.Assign, ast.AnnAssign, ast.AugAssign))]
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
    )


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
        if isinstance(node, ast.Call) and _callee(node.func) not in PURE_CALLS:
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.decorator_list:
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
    widen: str = ""  # non-empty: every test that ran the origin's code is selected too
    # file -> classes of which an instance made at import holds state from the change
    instances: dict[str, set[str]] = field(default_factory=dict)
    holders: dict[str, set[str]] = field(default_factory=dict)  # file -> names holding such instances
    # Non-empty (a changed class of the origin): the origin's functions that read objects'
    # ``__dict__`` observe the change too, since such an object may be that class.
    dict_readers: str = ""

    def observers(self, relative: str, facts: ModuleFacts) -> dict[str, str]:
        """The blocks of ``relative`` that observe the change -> why."""
        everywhere = set().union(self.members, *self.changed.values())
        own = self.changed.get(relative, set())
        defined = self.definitions.get(relative, set())
        instances = self.instances.get(relative, set())
        found: dict[str, str] = {}
        for block, reads in facts.blocks.items():
            top = block.partition(".")[0].partition("#")[0]
            if top in defined:
                found[block] = f"the definition of {top} in {relative} changed ({self._edit()})"
            elif top in instances:
                found[block] = (
                    f"{relative}::{block} runs on an instance of {top} made at import ({self._edit()})"
                )
            elif hit := sorted((reads.names & own) | ((reads.attributes | reads.mentions) & everywhere)):
                found[block] = f"{relative}::{block} reads {hit[0]} ({self._edit()})"
        if self.dict_readers and relative == self.origin:
            module_level = set().union(*(statement.bound for statement in facts.statements))
            for block, reads in facts.blocks.items():
                if block not in found and _reads_object_dicts(reads, module_level):
                    found[block] = (
                        f"{relative}::{block} reads objects' __dict__ (a class's too) and "
                        f"{self.dict_readers} changed ({self._edit()})"
                    )
        if own:
            found["<module>"] = f"module-level code of {relative} changed ({self._edit()})"
        return found

    def _edit(self) -> str:
        shown = ", ".join(sorted(self.names)[:3]) + (" ..." if len(self.names) > 3 else "")
        return f"{self.origin}: {shown} changed"


def changed_names(before: dict[str, str], now: dict[str, str]) -> set[str] | str:
    """The origin's changed module-level names, or why they cannot be told."""
    if LAYOUT_KEY not in before or LAYOUT_KEY not in now:
        return "its names were not fingerprinted when the tests ran"
    if before[LAYOUT_KEY] != now[LAYOUT_KEY]:
        return "module-level statements were added, removed or reordered, or one that binds no name changed"
    keys = {k for k in before.keys() | now.keys() if is_name_key(k) and k != LAYOUT_KEY}
    return {k[len(NAME_PREFIX) :] for k in keys if before.get(k) != now.get(k)}


def module_impact(
    origin: str,
    before: dict[str, str],
    now: dict[str, str],
    python_files: list[str],
    facts_of: Callable[[str], ModuleFacts | None],
) -> Impact:
    """Follow the origin's changed names through every file of ``python_files``."""
    names = changed_names(before, now)
    if isinstance(names, str):
        return Impact(origin, fallback=names)
    impact = Impact(origin, names)
    origin_facts = facts_of(origin)
    if origin_facts is None:
        impact.fallback = "it does not parse"
        return impact
    implicit = sorted(n for n in names if n in _IMPLICIT_NAMES or (n.startswith("__") and n.endswith("__")))
    if implicit:
        impact.fallback = f"{implicit[0]} is read by Python or pytest, not by name"
        return impact
    if origin_facts.dynamic:
        impact.fallback = f"it reads its own names dynamically ({origin_facts.dynamic})"
        return impact
    classes = sorted(n for s in origin_facts.statements if s.kind == "class" for n in s.bound & names)
    if classes and origin_facts.object_dicts:
        module_level = set().union(*(statement.bound for statement in origin_facts.statements))
        if any(_reads_object_dicts(statement.reads, module_level) for statement in origin_facts.statements):
            impact.fallback = (
                f"{classes[0]} changed and module-level code reads objects' __dict__ (a class's too)"
            )
            return impact
        impact.dict_readers = classes[0]
    for statement in origin_facts.statements:
        if not statement.bound & names:
            continue
        name = sorted(statement.bound & names)[0]
        if statement.kind == "import":
            impact.fallback = f"an import changed ({name})"
            return impact
        if statement.kind == "other":
            impact.fallback = f"{name} is bound by a statement other than an assignment, def or class"
            return impact
        if statement.effects:
            impact.widen = f"the statement binding {name} makes calls"
    _propagate(impact, python_files, facts_of)
    return impact


def _propagate(impact: Impact, python_files: list[str], facts_of) -> None:
    """Derived names and definitions, module by module, until nothing changes."""
    facts = {rel: f for rel in python_files if (f := facts_of(rel)) is not None}
    files_of: dict[str, set[str]] = {}
    for rel in facts:
        for name in module_names(rel):
            files_of.setdefault(name, set()).add(rel)
    changed = impact.changed
    changed[impact.origin] = set(impact.names)
    tainted: dict[str, set[str]] = {}  # file -> defs and classes whose code reads a changed name
    holders = impact.holders
    growing = True
    while growing and not impact.fallback:
        growing = False
        changed_everywhere = set().union(impact.members, *changed.values())
        everywhere = changed_everywhere | set().union(*tainted.values())
        for rel, f in facts.items():
            own = changed.setdefault(rel, set())
            reached = own | tainted.setdefault(rel, set())
            held = holders.setdefault(rel, set())
            before = (len(own), len(tainted[rel]), len(impact.members), len(held), _count(impact.instances))
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
            for block, reads in f.blocks.items():
                if reads.names & reached or (reads.attributes | reads.mentions) & everywhere:
                    tainted[rel].add(block.partition(".")[0].partition("#")[0])
            for statement in f.statements:
                if statement.kind == "import":  # followed above, by what it imports
                    continue
                # A def or class whose code reads a changed name matters here only when called.
                hit = (
                    statement.reads.names & own
                    or statement.reads.attributes & changed_everywhere
                    or statement.calls & (tainted[rel] | everywhere)
                )
                if statement.bound <= own:
                    continue
                if not hit:
                    if statement.bound and statement.reads.names & held:
                        if statement.copies_only:  # passes the instances along
                            held |= statement.bound
                        else:  # computes with them at import
                            own |= statement.bound
                            if statement.effects:
                                derived = sorted(statement.bound)[0]
                                impact.widen = impact.widen or f"{rel} derives {derived} with calls"
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
                    held |= statement.bound - own
                    if statement.effects:
                        impact.widen = impact.widen or f"{rel} makes {sorted(statement.bound)[0]} with calls"
                    continue
                if statement.kind in ("value", "def", "class") or statement.bound:
                    own |= statement.bound
                    if statement.effects or statement.kind == "other":
                        derived = sorted(statement.bound)[0]
                        impact.widen = impact.widen or f"{rel} derives {derived} with calls"
                else:
                    impact.fallback = f"module-level code of {rel} that binds no name reads {sorted(hit)[0]}"
                    return
            growing |= before != (len(own), len(tainted[rel]), len(impact.members), len(held),
                                  _count(impact.instances))
    for rel, own in changed.items():
        if rel in facts:
            kinds = {name for s in facts[rel].statements if s.kind in ("def", "class") for name in s.bound}
            impact.definitions[rel] = own & kinds
    impact.changed = {rel: own for rel, own in changed.items() if own}


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
            if statement.effects or calls - PURE_CALLS:
                impact.widen = (
                    impact.widen or f"{rel} derives {sorted(statement.bound)[0]}.{sorted(names)[0]}"
                )
