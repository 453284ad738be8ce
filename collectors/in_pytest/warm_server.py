"""The warm process behind ``testwatch run --warm``: it imports the project's third-party modules
once, then forks a fresh pytest for every run the engine asks for.

Standard library only, plus what it pre-imports. ``testwatch.run.warm_start`` starts it as
``python -m testwatch.collectors.in_pytest.warm_server FD`` in the project root, where FD is this end of a
Unix socket pair carrying one JSON line per message:

- engine -> server, first: ``{"modules": [...], "root": "..."}``, the names to try to pre-import;
  server -> engine: ``{"ready": true, "imported": [...], "unsafe": reason or null, "files": [...]}``.
- engine -> server: ``{"id": n, "module": "pytest", "args": [...], "cwd": "...", "env": {...}}``
  with the write end of the output pipe attached (SCM_RIGHTS); the child runs ``module`` as
  ``python -m module args`` would (``pytest``, or ``record_first`` when it records dependencies);
  server -> engine: ``{"id": n, "pid": pid}``, then
  ``{"id": n, "exit": code}`` (negative for a signal, as ``Popen.returncode``). Requests are
  answered while earlier forks still run (the engine starts a run's next pytest session while
  the one before runs its tests), so several forks may be alive at once.

Only modules found in site-packages or the standard library are imported here (plus the pytest
plugins that pytest would auto-load), never the project's own: they may change between runs.
The server exits when the engine's end closes.
"""

from __future__ import annotations

import gc
import importlib
import importlib.metadata
import importlib.util
import json
import os
import runpy
import select
import signal
import socket
import sys
import sysconfig
import threading
from pathlib import Path

# Modules whose state does not survive a fork (threads or device handles made at import).
FORK_UNSAFE = {
    "grpc": "gRPC is not fork-safe",
    "tensorflow": "TensorFlow starts threads at import",
    "jax": "JAX is multithreaded",
    "cupy": "CUDA contexts do not survive a fork",
    "pycuda": "CUDA contexts do not survive a fork",
    "jpype": "a JVM does not survive a fork",
    "objc": "macOS frameworks do not survive a fork",
}
_MAX_FDS = 4
_ALREADY_IMPORTED = "Module already imported so cannot be rewritten; "
_REWRITE_WARNING = "pytest.PytestAssertRewriteWarning"


class Channel:
    """JSON lines over a blocking Unix socket; file descriptors ride along with a request."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = b""
        self._fds: list[int] = []

    def send(self, message: dict) -> None:
        self.sock.sendall(json.dumps(message).encode() + b"\n")

    def receive(self) -> tuple[dict | None, list[int]]:
        """The next message and the descriptors that came with it; None at end of stream."""
        while not self.has_message():
            if not self.read_more():
                return None, []
        return self.next_message()

    def has_message(self) -> bool:
        """Whether a whole message is already read."""
        return b"\n" in self._buffer

    def read_more(self) -> bool:
        """Read what the socket holds (blocking until something comes); False at end of stream."""
        data, fds, _flags, _addr = socket.recv_fds(self.sock, 1 << 16, _MAX_FDS)
        self._fds += fds
        self._buffer += data
        return bool(data)

    def next_message(self) -> tuple[dict, list[int]]:
        """The first whole message read, and the descriptors that came with it."""
        line, self._buffer = self._buffer.split(b"\n", 1)
        fds, self._fds = self._fds, []
        return json.loads(line), fds


def is_third_party(name: str, root: Path, stdlib: Path) -> bool:
    """True when top-level module ``name`` lives in site-packages or the standard library."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    if spec.origin in ("built-in", "frozen"):
        return True
    locations = list(spec.submodule_search_locations or []) or [spec.origin]
    for location in locations:
        if not location:
            return False
        path = Path(location).resolve()
        inside = path.relative_to(root).parts if path.is_relative_to(root) else path.parts
        installed = "site-packages" in inside or "dist-packages" in inside
        if not installed and not (path.is_relative_to(stdlib) and not path.is_relative_to(root)):
            return False
    return True


def pytest_plugins() -> tuple[list[str], set[str]]:
    """The modules pytest auto-loads as plugins, and the top-level names of their distributions
    (the names pytest marks for assert rewriting)."""
    modules: list[str] = []
    names: set[str] = set()
    for entry_point in importlib.metadata.entry_points(group="pytest11"):
        modules.append(entry_point.module)
        names.add(entry_point.module.split(".")[0])
        for file in (entry_point.dist and entry_point.dist.files) or []:
            first = file.parts[0]
            if len(file.parts) > 1 and not first.endswith((".dist-info", ".egg-info", ".data")):
                names.add(first)
            elif len(file.parts) == 1 and first.endswith(".py"):
                names.add(first[:-3])
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        modules = []
    return modules, names


def preimport(modules: list[str], root: Path) -> dict:
    """Import each third-party name that can be imported, and pytest's auto-loaded plugins;
    report what happened and whether forking is still safe."""
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    plugin_modules, plugin_names = pytest_plugins()
    imported, failed = [], []
    for name in [*modules, *plugin_modules]:
        top = name.split(".")[0]
        if name in sys.modules or top in FORK_UNSAFE or not is_third_party(top, root, stdlib):
            continue
        try:
            importlib.import_module(name)
            imported.append(name)
        except BaseException:  # a module that cannot be imported stays cold
            failed.append(name)
    unsafe = [f"{name}: {why}" for name, why in FORK_UNSAFE.items() if name in sys.modules]
    if threading.active_count() > 1:
        names = ", ".join(t.name for t in threading.enumerate() if t is not threading.main_thread())
        unsafe.append(f"importing them started threads ({names})")
    files = sorted(
        {getattr(module, "__file__", None) or "" for module in list(sys.modules.values())} - {""}
    )
    return {
        "ready": True, "imported": imported, "failed": failed,
        "unsafe": "; ".join(unsafe) or None, "files": files,
        "preloaded_plugins": sorted(plugin_names & set(sys.modules)),
    }


def become_pytest(request: dict, fds: list[int], preloaded_plugins: list[str]) -> None:
    """In the forked child: take the run's output pipe, folder and environment, then run pytest
    (through the request's ``module``, as ``python -m module`` would).

    pytest warns that it cannot rewrite the asserts of a plugin imported before it started; for
    the plugins imported here that warning (which a cold start never shows) is filtered out.
    """
    os.setpgid(0, 0)  # its own process group, so one kill reaches everything it starts
    output = fds[0]
    os.dup2(output, 1)
    os.dup2(output, 2)
    for fd in fds:
        os.close(fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    _reseed()
    quiet = [f"-Wignore:{_ALREADY_IMPORTED}{name}:{_REWRITE_WARNING}" for name in preloaded_plugins]
    module = request.get("module", "pytest")
    sys.argv = [module, *request["args"], *quiet]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


def _reseed() -> None:
    """Give global random generators fresh seeds, as a cold process would have (``random`` does
    this itself after a fork)."""
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed()


class Forks:
    """The forked pytests still running, and the self-pipe that wakes the server when one ends
    (a SIGCHLD handler set only in the server; a fork puts the default back)."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.running: dict[int, int] = {}  # pid -> request id
        self.wake, wake_write = os.pipe()
        os.set_blocking(self.wake, False)
        os.set_blocking(wake_write, False)
        self._wake_write = wake_write
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        signal.set_wakeup_fd(wake_write)

    def start(self, request: dict, fds: list[int]) -> bool:
        """Fork for ``request``; True in the child, which then runs pytest."""
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self.channel.sock.close()
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(self.wake)
            os.close(self._wake_write)
            return True
        for fd in fds:
            os.close(fd)
        try:
            os.setpgid(pid, pid)  # also here, so the group exists before the engine hears the pid
        except OSError:
            pass
        self.running[pid] = request["id"]
        self.channel.send({"id": request["id"], "pid": pid})
        return False

    def report_ended(self) -> None:
        """Tell the engine the exit of every fork that has ended."""
        while True:
            try:
                if not os.read(self.wake, 512):
                    break
            except BlockingIOError:
                break
        for pid, request_id in list(self.running.items()):
            ended, status = os.waitpid(pid, os.WNOHANG)
            if ended:
                del self.running[pid]
                self.channel.send({"id": request_id, "exit": os.waitstatus_to_exitcode(status)})


def serve(channel: Channel) -> tuple[dict, list[int], list[str]] | None:
    """Answer run requests until the engine hangs up; returns in a forked child with its request."""
    first, _ = channel.receive()
    if first is None:
        return None
    report = preimport(first["modules"], Path(first["root"]).resolve())
    channel.send(report)
    if report["unsafe"]:
        return None
    # As Python's docs advise for a server that forks without exec: what is imported now moves to
    # the collector's permanent generation, so a fork's collections (pytest runs two at its end)
    # do not walk, nor copy on write, the whole inherited heap.
    gc.collect()
    gc.freeze()
    forks = Forks(channel)
    while True:
        while not channel.has_message():
            readable, _, _ = select.select([channel.sock, forks.wake], [], [])
            if forks.wake in readable:
                forks.report_ended()
            if channel.sock in readable and not channel.read_more():
                return None
        request, fds = channel.next_message()
        if forks.start(request, fds):
            return request, fds, report["preloaded_plugins"]


def main(argv: list[str]) -> None:
    """Serve on the socket whose descriptor is ``argv[1]``; a forked child runs pytest instead."""
    sock = socket.socket(fileno=int(argv[1]))
    sock.setblocking(True)
    work = serve(Channel(sock))
    if work is not None:
        become_pytest(*work)


if __name__ == "__main__":
    main(sys.argv)
