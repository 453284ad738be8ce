"""What a module's top-level statements evaluate when the module is imported, and whether that
can fail.

An edit of module-level code that makes the module fail to import fails every test whose file
imports it, whatever names the edit changed. Two questions tell it apart from an edit that only
binds new values (``module_names``):

- ``undefined_at_import``: a name read at import before any statement binds it (a typo, an import
  not written yet): importing the module raises NameError, certainly;
- ``settled``: whether a statement's own code only binds names: every expression it evaluates
  at import is a constant, a name, a display of such, arithmetic on constants that evaluates, a
  lambda, an f-string of names or a pytest mark. An attribute (``string.ascii_lowercas``), a
  subscript, a call or an operator on names may raise.

Annotations are evaluated at import unless the module has ``from __future__ import annotations``
(the statements given here then have none: ``fingerprints.block_reads`` drops them); Python 3.14
defers them, where a name they read is then taken for undefined: the selection falls back, wider.
"""

from __future__ import annotations

import ast
import builtins
import collections
import datetime
import enum
import errno
import functools
import itertools
import logging
import math
import operator
import os
import re
import stat
import string
import struct
import sys
import typing

# Calls with no effect beyond their result: a statement that makes only these calls binds its
# names and does nothing else (``module_names``), and settles when their arguments do.
PURE_CALLS = frozenset(
    {
        "bool", "bytes", "cast", "chr", "classmethod", "compile", "dict", "enumerate", "float",
        "frozenset", "int", "len", "list", "object", "ord", "property", "range", "set", "sorted",
        "staticmethod", "str", "Struct", "timedelta", "timezone", "tuple", "TypeVar", "zip",
        "encode", "decode", "format", "join",
    }
)
# Pure calls that may fail on a constant argument, tried here on one as the import would run them.
_TRIED = {
    "int": int, "float": float, "chr": chr, "ord": ord, "Struct": struct.Struct,
    "encode": lambda text, *rest: text.encode(*rest), "decode": lambda data, *rest: data.decode(*rest),
}

# Names every module has before its first statement runs.
_ALWAYS_BOUND = frozenset(dir(builtins)) | {
    "__name__", "__file__", "__doc__", "__spec__", "__loader__", "__package__", "__path__",
    "__builtins__", "__cached__", "__annotations__",
}
# Top-level statements that run whenever the module is imported (an ``if``, ``try``, ``for`` or
# ``with`` may not run some of its code: its reads are not taken for NameErrors).
_UNCONDITIONAL = (
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr,
)
_TYPE_PARAMS = tuple(
    getattr(ast, name) for name in ("TypeVar", "ParamSpec", "TypeVarTuple") if hasattr(ast, name)
)
_ARITHMETIC = (
    ast.Constant, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.operator, ast.unaryop,
    ast.boolop, ast.cmpop,
)
_BIG = 10_000
# Standard modules whose attributes module-level code often reads (``re.I``, ``logging.DEBUG``).
_STANDARD = {
    module.__name__: module
    for module in (
        collections, datetime, enum, errno, functools, itertools, logging, math, operator, os, re,
        stat, string, struct, sys, typing,
    )
}  # a bigger exponent, shift or repeat count is not evaluated here


def undefined_at_import(statements: list[ast.stmt], bound_names) -> str:
    """The first name the top-level ``statements`` read at import before any of them binds it,
    "" when there is none or it cannot be told (a ``from mod import *`` may bind anything).
    ``bound_names``: ``fingerprints.bound_names``."""
    if any(
        isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)
        for statement in statements for node in ast.walk(statement)
    ):
        return ""
    bound = set(_ALWAYS_BOUND)
    for statement in statements:
        if isinstance(statement, _UNCONDITIONAL):
            missing = _names_read(statement, bound_names) - bound
            if missing:
                return sorted(missing)[0]
        bound |= bound_names(statement)
    return ""


def settled(statement: ast.stmt) -> bool:
    """Whether running the top-level ``statement`` can do nothing but bind its names (see the
    module's docstring); a compound statement (``if``, ``try``) or an import never is."""
    if isinstance(statement, ast.AugAssign):
        return False  # an operator on a name
    if isinstance(statement, ast.Assign) and not all(
        _unpacks(target, statement.value) for target in statement.targets
    ):
        return False
    return all(_settled(part) for part in evaluated(statement, annotations=False))


def is_pytest_mark(node: ast.expr) -> bool:
    """``pytest.mark.NAME`` or ``mark.NAME``, called or not, with settled arguments, or
    ``pytest.param(...)``: what pytest reads from the function they decorate, nothing more."""
    func = node.func if isinstance(node, ast.Call) else node
    mark = isinstance(func, ast.Attribute) and (
        (isinstance(func.value, ast.Name) and func.value.id == "mark")
        or (isinstance(func.value, ast.Attribute) and func.value.attr == "mark"
            and isinstance(func.value.value, ast.Name) and func.value.value.id == "pytest")
    )
    param = (
        isinstance(node, ast.Call) and isinstance(func, ast.Attribute) and func.attr == "param"
        and isinstance(func.value, ast.Name) and func.value.id == "pytest"
    )
    if not mark and not param:
        return False
    if isinstance(node, ast.Call):
        return all(_settled(arg) for arg in node.args) and all(_settled(k.value) for k in node.keywords)
    return True


def evaluated(statement: ast.stmt, annotations: bool) -> list[ast.AST]:
    """The parts of a top-level statement evaluated when it runs at import (a def's decorators,
    defaults and, with ``annotations``, its annotations; a class's bases, keywords, decorators and
    body; an assignment's value and any target that is not a plain name). Any other statement is
    its own part (never settled)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        arguments = statement.args
        parts: list[ast.AST] = [
            *statement.decorator_list, *arguments.defaults, *filter(None, arguments.kw_defaults),
        ]
        if annotations:
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            every += [arguments.vararg, arguments.kwarg]
            parts += [arg.annotation for arg in every if arg is not None and arg.annotation is not None]
            parts += [statement.returns] if statement.returns is not None else []
        return parts
    if isinstance(statement, ast.ClassDef):
        parts = [*statement.bases, *(keyword.value for keyword in statement.keywords)]
        parts += statement.decorator_list
        for member in statement.body:
            parts += evaluated(member, annotations)
        return parts
    if isinstance(statement, ast.Assign):
        return [statement.value, *(t for t in statement.targets if not isinstance(t, ast.Name))]
    if isinstance(statement, ast.AnnAssign):
        parts = [statement.value] if statement.value is not None else []
        parts += [statement.annotation] if annotations else []
        return parts + ([] if isinstance(statement.target, ast.Name) else [statement.target])
    if isinstance(statement, ast.AugAssign):
        return [statement.value, *([] if isinstance(statement.target, ast.Name) else [statement.target])]
    if isinstance(statement, ast.Expr):
        return [statement.value]
    if isinstance(statement, ast.Pass):
        return []
    return [statement]


def _names_read(statement: ast.stmt, bound_names) -> set[str]:
    """The global names a statement reads as it runs at import: a class body's own names, a
    comprehension's variables and a lambda's parameters are not global (a lambda's body runs
    later)."""
    loads: set[str] = set()
    local: set[str] = set()
    if isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
        loads.add(statement.target.id)  # ``X += 1`` reads X
    if isinstance(statement, ast.ClassDef):
        for member in statement.body:
            local |= bound_names(member)
    local |= {node.name for node in ast.walk(statement) if isinstance(node, _TYPE_PARAMS)}
    stack = evaluated(statement, annotations=True)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Lambda):
            stack += [*node.args.defaults, *filter(None, node.args.kw_defaults)]
            continue
        if isinstance(node, ast.stmt) and not isinstance(node, _UNCONDITIONAL):
            continue  # a class body's ``if``: it may not run
        if isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else local).add(node.id)
        elif isinstance(node, ast.arg):
            local.add(node.arg)
        stack.extend(ast.iter_child_nodes(node))
    return loads - local


def _unpacks(target: ast.expr, value: ast.expr) -> bool:
    """``a, b = 1, 2`` unpacks; ``a, b = VALUES`` may not (a ValueError at import)."""
    if not isinstance(target, (ast.Tuple, ast.List)):
        return True
    return (
        isinstance(value, (ast.Tuple, ast.List))
        and len(value.elts) == len(target.elts)
        and not any(isinstance(node, ast.Starred) for node in (*target.elts, *value.elts))
    )


def _settled(node: ast.AST) -> bool:
    if isinstance(node, (ast.Constant, ast.Name)):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_settled(element) for element in node.elts)
    if isinstance(node, ast.Dict):
        return None not in node.keys and all(_settled(part) for part in (*node.keys, *node.values))
    if isinstance(node, ast.Lambda):
        return all(_settled(d) for d in (*node.args.defaults, *filter(None, node.args.kw_defaults)))
    if isinstance(node, ast.JoinedStr):
        return all(
            isinstance(value, ast.Constant)
            or (isinstance(value, ast.FormattedValue) and value.format_spec is None and _settled(value.value))
            for value in node.values
        )
    if isinstance(node, ast.Call) and _pure_call(node):
        return True
    if isinstance(node, ast.Attribute) and _standard_attribute(node):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # re.I | re.X
        return all(_standard_attribute(side) or _settled(side) for side in (node.left, node.right))
    if isinstance(node, (ast.Call, ast.Attribute)):
        return is_pytest_mark(node)
    return _constant_arithmetic(node)


def _standard_attribute(node: ast.expr) -> bool:
    """``re.I``, ``string.digits``, ``logging.DEBUG``: an attribute that one of a few standard
    library modules has (a typo there would fail the import)."""
    if not isinstance(node, ast.Attribute) or not isinstance(node.value, ast.Name):
        return False
    module = _STANDARD.get(node.value.id)
    return module is not None and hasattr(module, node.attr)


def _pure_call(node: ast.Call) -> bool:
    """A call among ``PURE_CALLS`` by a name, a module's attribute (``re.compile``) or a method of
    a constant (``", ".join``), on settled arguments; on constants alone, one that may fail on
    them (``re.compile("(")``, ``int("x")``, ``struct.Struct("Z")``) is tried here."""
    func = node.func
    if isinstance(func, ast.Name):
        name, receiver = func.id, None
    elif isinstance(func, ast.Attribute) and (isinstance(func.value, ast.Name) or _settled(func.value)):
        name, receiver = func.attr, func.value
    else:
        return False
    if name not in PURE_CALLS or any(isinstance(arg, ast.Starred) for arg in node.args):
        return False
    if any(keyword.arg is None for keyword in node.keywords):
        return False
    arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
    if not all(_settled(argument) for argument in arguments):
        return False
    constants = [receiver, *arguments] if isinstance(receiver, ast.Constant) else arguments
    if not all(isinstance(argument, ast.Constant) for argument in constants):
        return True  # on names: values the import computed before the edit too
    values = [argument.value for argument in constants]
    keywords = {keyword.arg: keyword.value.value for keyword in node.keywords}
    positional = values[: len(values) - len(keywords)]
    if name == "compile":
        tried = re.compile if isinstance(receiver, ast.Name) else builtins.compile
    else:
        tried = _TRIED.get(name)
    if tried is None:
        return True
    try:
        tried(*positional, **keywords)
    except Exception:  # the edit's own call fails: so would the import
        return False
    return True


def _constant_arithmetic(node: ast.AST) -> bool:
    """Arithmetic, logic or comparison on constants alone that evaluates without an error."""
    if not isinstance(node, (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare)):
        return False
    for part in ast.walk(node):
        if not isinstance(part, _ARITHMETIC):
            return False
        if isinstance(part, ast.BinOp) and isinstance(part.op, (ast.Pow, ast.LShift, ast.Mult)):
            sizes = [side.value for side in (part.left, part.right) if isinstance(side, ast.Constant)]
            if len(sizes) < 2 or any(not isinstance(n, (int, float)) or abs(n) > _BIG for n in sizes):
                return False
    try:
        eval(compile(ast.Expression(body=node), "<constant>", "eval"), {"__builtins__": {}})
    except Exception:  # the edit's own arithmetic fails: so would the import
        return False
    return True
