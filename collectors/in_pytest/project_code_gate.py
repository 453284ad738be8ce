"""coverage.py's tracer on the main thread only while code that may be the project's runs.

With a trace function set, Python 3.11 runs every line of every file slower: the interpreter leaves
its specialised instructions for the tracing ones and makes a frame object for every call, in
pytest's code as much as in the project's. Most of a session is pytest's own code (its start-up,
the collection tree, the parametrization, each test's reports), whose lines the recorder throws
away. So from the recorder's start (before pytest's in the recording child, else as its plugin
registers), the gate keeps coverage.py's tracer set on the main thread only while:

- a project module executes: a meta path finder, kept first in ``sys.meta_path``, hands the import
  machinery a loader that opens the gate around the module's own loader (the module keeps its own
  loader: the wrapper lives for that execution only);
- project code is executed past the import hooks (the ``exec`` audit event; until the next
  window closes);
- a pytest hook runs that executes the tests' and fixtures' code (``deps_plugin`` wraps them), or
  one that a project file implements (its conftest.py files, its own plugins): ``watch_plugin``
  wraps those functions where pluggy keeps them (``HookImpl.function``) as each plugin registers.
  Not pluggy's ``add_hookcall_monitoring``: the frames it adds to every hook call made Python
  3.11 thrash on a frame-chunk boundary (attrs' suite mapped and unmapped memory 4x as often).

coverage.py stays started throughout; the gate removes and sets back its trace function with
``sys.settrace``, the round trip coverage.py's tracer supports (it reinstalls itself at the next
call). Windows nest, and a frame entered inside one returns before it closes, so the tracer sees
every call it traces return. Other threads keep their tracer all along. When something else sets a
trace function on the main thread (a debugger, another coverage tool), the gate stops and leaves
tracing as it finds it. A test's report is built in a window when the test failed (its
exception's ``__str__``, a project ``Item``'s ``repr_failure``), and a project ``Item``'s
``reportinfo`` runs in one; project code that pytest calls elsewhere is not counted as run: a
project function patched into pytest's own clock (freezegun's ``fake_time`` in freezegun's own
suite) between a test's phases. Standard library only: it runs in the user's pytest.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from importlib.machinery import ModuleSpec
from types import CodeType, ModuleType

from testwatch.collectors.in_pytest.line_monitor import real_path


class ProjectCodeGate:
    """Sets ``tracer`` as the main thread's trace function inside windows of project code only."""

    def __init__(self, is_project_file: Callable[[str], bool], tracer) -> None:
        self._is_project_file = is_project_file  # of a real path
        self._tracer = tracer
        self.gating = False
        self._depth = 0
        self._main_thread = threading.get_ident()  # windows are the main thread's; others trace always
        self._finder = _ProjectImports(self)
        self._project_paths: dict[str, bool] = {}
        self._project_classes: dict[type, bool] = {}

    def begin(self) -> None:
        """Start gating (again: the finder goes first once more)."""
        if not self.gating:
            self.gating = True
            if self._depth == 0:
                self._shut()
        self.keep_first()

    def keep_first(self) -> None:
        """Put the finder first in ``sys.meta_path`` again: pytest's assertion rewriter (and any
        other import hook) inserts itself first, and the modules it finds would run untraced."""
        if self.gating and (not sys.meta_path or sys.meta_path[0] is not self._finder):
            with contextlib.suppress(ValueError):
                sys.meta_path.remove(self._finder)
            sys.meta_path.insert(0, self._finder)

    def watch_plugin(self, plugin, pluginmanager) -> None:
        """Open a window around each of ``plugin``'s hook implementations that a project file
        defines (its conftest.py files, its own plugins): their functions are wrapped in place."""
        for caller in pluginmanager.get_hookcallers(plugin) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and self._is_project_function(impl.function):
                    impl.function = _windowed(impl.function, self, impl.hookwrapper or impl.wrapper)

    def close(self) -> None:
        """Stop gating: the finder goes; the tracer is set again if nothing else took the main
        thread's trace function meanwhile."""
        if not self.gating:
            return
        self.gating = False
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self._finder)
        if sys.gettrace() is None:
            sys.settrace(self._tracer)

    def code_starts(self, code: CodeType) -> None:
        """The ``exec`` of ``code`` begins (an audit event). Project code executed outside any
        window, past the import hooks (pytest's ``importlib`` import mode loads a test package's
        ``__init__.py`` from its path), gets the tracer now; the next window to close removes it."""
        if (self.gating and self._depth == 0 and not code.co_filename.startswith("<")
                and threading.get_ident() == self._main_thread and sys.gettrace() is None
                and self.is_project_path(code.co_filename)):
            sys.settrace(self._tracer)

    @contextlib.contextmanager
    def window(self) -> Iterator[None]:
        """The tracer set for the time of the block (nested windows keep it set)."""
        self.enter()
        try:
            yield
        finally:
            self.leave()

    def enter(self) -> None:
        if not self.gating or threading.get_ident() != self._main_thread:
            return
        if self._depth == 0 and sys.gettrace() is None:
            sys.settrace(self._tracer)
        self._depth += 1

    def leave(self) -> None:
        if not self.gating or self._depth == 0 or threading.get_ident() != self._main_thread:
            return
        self._depth -= 1
        if self._depth == 0:
            self._shut()

    def _shut(self) -> None:
        current = sys.gettrace()
        if current is self._tracer:
            sys.settrace(None)
        elif current is not None:
            self.close()  # a debugger or another tracer took over: leave it be

    def is_project_path(self, path: str) -> bool:
        known = self._project_paths.get(path)
        if known is None:
            known = self._project_paths[path] = self._is_project_file(real_path(path))
        return known

    def defines(self, cls: type) -> bool:
        """True when ``cls`` is a project file's class (a conftest.py's pytest ``Item``)."""
        known = self._project_classes.get(cls)
        if known is None:
            path = getattr(sys.modules.get(cls.__module__), "__file__", None)
            known = self._project_classes[cls] = isinstance(path, str) and self.is_project_path(path)
        return known

    def _is_project_function(self, function) -> bool:
        code = getattr(function, "__code__", None)
        return bool(code and self.is_project_path(code.co_filename))


def _windowed(function, gate: ProjectCodeGate, generator: bool):
    """``function`` with the gate open while it runs: a hook wrapper's generator, each time it
    resumes."""
    if generator:
        @functools.wraps(function)
        def windowed_generator(*args):
            return _WindowedGenerator(function(*args), gate)

        return windowed_generator

    @functools.wraps(function)
    def windowed(*args):
        __tracebackhide__ = True  # pytest's tracebacks show the project's hook, not this
        with gate.window():
            return function(*args)

    return windowed


class _WindowedGenerator:
    """A hook wrapper's generator whose every step runs with the gate open."""

    def __init__(self, generator: Generator, gate: ProjectCodeGate) -> None:
        self._generator = generator
        self._gate = gate

    def __getattr__(self, name: str):  # ``gi_code`` and the like, which pluggy's errors read
        return getattr(self._generator, name)

    def __iter__(self):
        return self

    def __next__(self):
        with self._gate.window():
            return next(self._generator)

    def send(self, value):
        with self._gate.window():
            return self._generator.send(value)

    def throw(self, *exception):
        with self._gate.window():
            return self._generator.throw(*exception)

    def close(self) -> None:
        with self._gate.window():
            self._generator.close()


class _ProjectImports:
    """A meta path finder that finds nothing itself: it asks the finders after it, as the import
    machinery would, and wraps the loader of a project module in ``_TracedLoader``."""

    def __init__(self, gate: ProjectCodeGate) -> None:
        self._gate = gate
        self._finding = False  # a finder after this one that imports: the nested import passes by

    def find_spec(self, fullname: str, path, target=None) -> ModuleSpec | None:
        if self._finding:
            return None
        self._finding = True
        try:
            spec = self._spec_from_the_others(fullname, path, target)
        finally:
            self._finding = False
        loader = getattr(spec, "loader", None)
        if (spec is not None and spec.has_location and isinstance(spec.origin, str)
                and hasattr(loader, "exec_module") and hasattr(loader, "create_module")
                and self._gate.is_project_path(spec.origin)):
            spec.loader = _TracedLoader(loader, self._gate)
        return spec

    def _spec_from_the_others(self, fullname: str, path, target) -> ModuleSpec | None:
        try:
            after = sys.meta_path[sys.meta_path.index(self) + 1:]
        except ValueError:
            return None
        for finder in after:
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                return None  # a finder of the old protocol: the import machinery goes on without us
            spec = find_spec(fullname, path, target)
            if spec is not None:
                return spec
        return None


class _TracedLoader:
    """The module's own loader, with the gate open while it executes the module."""

    def __init__(self, loader, gate: ProjectCodeGate) -> None:
        self._loader = loader
        self._gate = gate

    def __getattr__(self, name: str):
        return getattr(self._loader, name)

    def create_module(self, spec: ModuleSpec):
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        if getattr(module, "__loader__", None) is self:
            module.__loader__ = self._loader
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self._loader
        with self._gate.window():
            self._loader.exec_module(module)
