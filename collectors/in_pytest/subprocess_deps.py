"""Dependencies recorded in the Python subprocesses a test starts (``python -m pkg``,
``subprocess.run([sys.executable, ...])``), as coverage.py's subprocess measurement does.

The recorder in the pytest process (``deps_plugin``) calls ``install_startup``: it writes a
``sitecustomize.py`` into the run's side folder and puts that folder first on ``PYTHONPATH``,
so every Python child that inherits the environment runs it at start-up; it then chains to the
``sitecustomize`` the child would have run otherwise. ``set_context`` keeps the current test
(or fixture setup) in the environment, so a child started by a test knows whom its code runs
for. The child records the project code objects it starts (``sys.monitoring`` on 3.12+, a
call-only ``sys.settrace`` function before, never line tracing) and writes them at exit as one
more ``deps.*.json`` record of that context, which the engine side merges like any other.

A child started outside any test (a pytest-xdist worker, before its own recorder starts), run
with ``-E``/``-I``/``-S``, given an environment without testwatch's variables, or ended by
``os._exit`` or a signal records nothing. ``unrecorded_python`` recognises the first kinds at the
``subprocess.Popen`` audit event: the test that started such a Python is then selected on every
change (``deps_plugin``), since the code it ran there is unknown. Standard library only, and
loaded by file path in the child (no package needed there): it imports ``line_monitor`` the same
way.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import re
import sys
import threading
import time
from types import CodeType

OUT_DIR_VAR = "TESTWATCH_DEPS_SUBPROCESS"  # the run's side folder
ROOT_VAR = "TESTWATCH_DEPS_ROOT"
CONTEXT_VAR = "TESTWATCH_DEPS_CONTEXT"  # the test (or fixture setup) running in the parent
_HERE = os.path.dirname(os.path.abspath(__file__))
_stat = os.stat
_STARTUP_MODULE = "_testwatch_subprocess_deps"
# Python-2-safe syntax: any interpreter a test starts imports it.
_SITECUSTOMIZE = '''\
"""testwatch: record the project code this child runs for the test that started it."""
import os
import sys


def _testwatch_start():
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.version_info >= (3, 8) and os.environ.get("{context_var}"):
        try:
            import importlib.util
            spec = importlib.util.spec_from_file_location("{module}", {recorder!r})
            module = importlib.util.module_from_spec(spec)
            sys.modules["{module}"] = module
            spec.loader.exec_module(module)
            module.start_in_child()
        except Exception:
            pass
    # The sitecustomize this interpreter would have run without this one.
    del sys.modules["sitecustomize"]
    if sys.version_info >= (3, 5):
        import importlib.machinery
        import importlib.util
        path = [entry for entry in sys.path if os.path.abspath(entry or ".") != here]
        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
        if spec is not None:
            module = importlib.util.module_from_spec(spec)
            sys.modules["sitecustomize"] = module
            spec.loader.exec_module(module)


_testwatch_start()
'''


def install_startup(out_dir: str, root: str) -> None:
    """Make the Python children of this process record their project code (see the module doc)."""
    startup = os.path.join(out_dir, "startup")
    os.makedirs(startup, exist_ok=True)
    text = _SITECUSTOMIZE.format(context_var=CONTEXT_VAR, module=_STARTUP_MODULE,
                                 recorder=os.path.abspath(__file__))
    with open(os.path.join(startup, "sitecustomize.py"), "w", encoding="utf-8") as f:
        f.write(text)
    python_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [startup, python_path]))
    os.environ[OUT_DIR_VAR] = out_dir
    os.environ[ROOT_VAR] = root
    os.environ[CONTEXT_VAR] = ""


# An interpreter's name: python, python3, python3.12, pypy3 (a virtualenv's too).
_PYTHON_NAME = re.compile(r"^(python|pypy)[\d.]*$")
# Options that stop a child from running this start-up: no environment, isolated, no site.
_NO_STARTUP_FLAGS = frozenset("IES")


def unrecorded_python(executable, args, env) -> str | None:
    """How a ``subprocess.Popen`` would start a Python whose code this start-up cannot record
    (``"python3 -I"``, or ``"python3 with an environment of its own"``); None for any other
    process, and when it cannot tell (a shell command line, a program that is not an
    interpreter)."""
    if isinstance(args, (str, bytes)) or not args:
        return None
    argv = [os.fsdecode(arg) if isinstance(arg, (bytes, os.PathLike)) else str(arg) for arg in args]
    program = os.fsdecode(executable) if executable is not None else argv[0]
    name = os.path.basename(program)
    if not _PYTHON_NAME.match(name) and not _same_file(program, sys.executable):
        return None
    flags = _interpreter_flags(argv[1:]) & _NO_STARTUP_FLAGS
    if flags:
        return f"{name} -{''.join(sorted(flags))}"
    if env is not None and not _keeps_startup(env):
        return f"{name} with an environment of its own"
    return None


def _interpreter_flags(args: list[str]) -> set[str]:
    """The one-letter options given to the interpreter itself, before its script, -c or -m."""
    flags: set[str] = set()
    remaining = iter(args)
    for arg in remaining:
        if arg in ("-", "--") or not arg.startswith("-"):
            break
        if arg.startswith("--"):
            if arg == "--check-hash-based-pycs":
                next(remaining, None)
            continue
        for position, letter in enumerate(arg[1:], start=1):
            if letter in "cm":
                return flags
            if letter in "XW":  # their value is the rest of this argument, or the next one
                if position == len(arg) - 1:
                    next(remaining, None)
                break
            flags.add(letter)
    return flags


def _keeps_startup(env) -> bool:
    """Whether a child given ``env`` runs this start-up for a test."""
    def value(name: str) -> str:
        found = env.get(name, env.get(name.encode(), ""))
        return os.fsdecode(found) if isinstance(found, bytes) else str(found)

    startup = os.path.join(value(OUT_DIR_VAR), "startup")
    return bool(value(CONTEXT_VAR)) and startup in value("PYTHONPATH").split(os.pathsep)


def _same_file(program: str, other: str) -> bool:
    """``os.path.samefile`` with the ``os.stat`` this module loaded with (it runs in the test's
    frames, where a tool may have replaced ``os.stat``: see ``line_monitor``)."""
    try:
        first, second = _stat(program), _stat(other)
    except (OSError, ValueError):
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def set_context(context: str) -> None:
    """The test (or fixture setup) that the children started from now on run for."""
    os.environ[CONTEXT_VAR] = context


def stop_in_this_process() -> None:
    """A pytest process records itself (``deps_plugin``): drop the child recorder that its
    start-up began (a pytest-xdist worker, or pytest started by a test, inherits the startup)."""
    module = sys.modules.get(_STARTUP_MODULE)
    recorder = getattr(module, "recorder", None)
    if recorder is not None:
        recorder.stop()


def _load_sibling(name: str):
    """A module of this folder by file path: the child has no ``testwatch`` package to import."""
    spec = importlib.util.spec_from_file_location(f"_testwatch_{name}", os.path.join(_HERE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class StartRecorder:
    """3.12+: the code objects this child starts, from ``PY_START``/``PY_RESUME`` set for every
    code object; each callback returns ``DISABLE`` and nothing restarts them, so a code object
    costs one callback in the child's life."""

    def __init__(self, tool_id: int, name: str) -> None:
        self.started: set[CodeType] = set()
        self.tool_id = tool_id
        monitoring = sys.monitoring
        events = monitoring.events
        monitoring.use_tool_id(tool_id, name)
        monitoring.register_callback(tool_id, events.PY_START, self._on_start)
        monitoring.register_callback(tool_id, events.PY_RESUME, self._on_start)
        monitoring.set_events(tool_id, events.PY_START | events.PY_RESUME)

    def _on_start(self, code: CodeType, offset: int):
        self.started.add(code)
        return sys.monitoring.DISABLE

    def stop(self) -> None:
        sys.monitoring.set_events(self.tool_id, 0)
        sys.monitoring.free_tool_id(self.tool_id)


class CallRecorder:
    """Before 3.12: the code objects this child starts, from a call-only trace function (it
    returns None, so no line of any frame is traced)."""

    def __init__(self) -> None:
        self.started: set[CodeType] = set()
        sys.settrace(self._on_call)
        threading.settrace(self._on_call)

    def _on_call(self, frame, event, arg):
        self.started.add(frame.f_code)

    def stop(self) -> None:
        sys.settrace(None)
        threading.settrace(None)


class ChildRecorder:
    """The recording of one child process, written at its exit as a ``deps.*.json`` record."""

    def __init__(self, out_dir: str, root: str, context: str) -> None:
        self.out_dir = out_dir
        self.context = context
        self.monitors = _load_sibling("line_monitor")
        self.is_project = self.monitors.project_file_test(root)
        tool_id = self.monitors.free_tool_id()
        self.recorder = CallRecorder() if tool_id is None else StartRecorder(tool_id, "testwatch")
        self.stopped = False
        atexit.register(self.save)

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.recorder.stop()

    def save(self) -> None:
        if self.stopped:
            return
        self.stop()
        lines = self.monitors.block_lines({self.context: self.recorder.started}, self.is_project)
        if not lines["files"]:
            return
        record = {"pid": os.getpid(), "error": "", "traced": True, "lines": lines, "locations": {}}
        target = os.path.join(self.out_dir, f"deps.sub.{os.getpid()}.{time.time_ns()}.json")
        try:
            with open(target + ".tmp", "w", encoding="utf-8") as f:
                f.write(json.dumps(record))  # C encoder (json.dump's is Python)
            os.replace(target + ".tmp", target)
        except OSError:  # outlived the run, whose side folder is gone: nobody would read it
            pass


recorder: ChildRecorder | None = None


def start_in_child() -> None:
    """Called by the startup ``sitecustomize`` in a child started by a test."""
    global recorder
    out_dir = os.environ.get(OUT_DIR_VAR)
    root = os.environ.get(ROOT_VAR)
    context = os.environ.get(CONTEXT_VAR)
    if out_dir and root and context and os.path.isdir(out_dir) and recorder is None:
        recorder = ChildRecorder(out_dir, root, context)
