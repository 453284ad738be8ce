"""Warm start (config ``warm``, on by default in watch mode; ``--warm`` for one run): fork each
pytest from a process that has already imported the project's third-party dependencies, instead
of starting an interpreter cold.

The warm process is ``testwatch.collectors.in_pytest.warm_server``. Before every run this side
checks that a fork is still equivalent to a cold start: same dependency and lock files, same
installed packages (the mtime of each ``site-packages`` folder it imported from), same imported
module files, a server that found its imports fork-safe, a platform with fork. When any of that
fails the run starts pytest cold, exactly as without warm start, and a changed server is replaced
for the next run. The project's own modules, its ``conftest.py`` files and its tests are never
imported by the warm process: each forked pytest imports them fresh, so editing them needs no
cold start.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

from testwatch.run.child import PytestChild, describe_exit
from testwatch.run.child_command import with_plugin_path
from testwatch.run.process_group import end_group, start_in_group
from testwatch.run.warm_checks import changed_file, dependency_state, import_candidates, package_folders
from testwatch.run.workdirs import make_workdir

_READY_TIMEOUT_S = 120.0
# What every pytest start imports besides pytest itself (its debugging, junitxml and faulthandler
# plugins): imported once in the warm process, not in each fork.
PYTEST_IMPORTS = ("pytest", "pdb", "xml.etree.ElementTree", "faulthandler")
MAX_SERVER_DEATHS = 2


class WarmUnavailable(Exception):
    """This run cannot be forked from the warm process; the message says why."""


class WarmServer:
    """One running warm process and the socket to it."""

    def __init__(self, python: str, root: Path, env: dict[str, str]) -> None:
        self.workdir = make_workdir("tw-warm-")
        ours, theirs = socket.socketpair()
        env = with_plugin_path(env, python, self.workdir)
        self.process = start_in_group(
            [python, "-m", "testwatch.collectors.in_pytest.warm_server", str(theirs.fileno())],
            root, env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=[theirs.fileno()],
        )
        theirs.close()
        ours.setblocking(False)
        self.sock = ours
        self.root = root
        self.report: dict = {}
        self.baseline: dict = {}
        self._buffer = b""
        self._read_lock = asyncio.Lock()
        # Messages read and not yet claimed by their waiter (a reply to a fork request that was
        # cancelled stays here until the server is replaced: two small dicts per cancelled start).
        self._inbox: list[dict] = []
        self._next_id = 0

    async def handshake(self, modules: list[str]) -> dict:
        """Send the names to pre-import; wait for the server's report."""
        before = dependency_state(self.root, [])
        await self._send({"modules": modules, "root": str(self.root)})
        self.report = await asyncio.wait_for(self._receive(lambda m: "ready" in m), _READY_TIMEOUT_S)
        # A dependency file changed while it imported keeps its earlier state: the next check notices.
        self.baseline = {**dependency_state(self.root, self._watched()), **before}
        return self.report

    def changed(self) -> str | None:
        """A dependency file, imported file or package folder that changed since the server
        imported, if any."""
        return changed_file(self.baseline, dependency_state(self.root, self._watched()))

    def _watched(self) -> list[str]:
        """The imported module files and the package folders that hold them."""
        files = self.report.get("files", [])
        return [*files, *package_folders(files)]

    async def fork(self, argv: list[str], cwd: Path, env: dict[str, str], output_fd: int) -> tuple[int, int]:
        """Ask for a fork that runs ``argv`` (``python -m MODULE ARGS...``); returns (request id, pid)."""
        self._next_id += 1
        request_id = self._next_id
        module, args = argv[2], argv[3:]
        request = {"id": request_id, "module": module, "args": args, "cwd": str(cwd), "env": env}
        message = json.dumps(request).encode() + b"\n"
        loop = asyncio.get_running_loop()
        # The descriptor rides on the first byte; the rest of a long line follows as plain data.
        send = lambda: socket.send_fds(self.sock, [message], [output_fd])  # noqa: E731
        sent = await _retry_on_full(loop, self.sock, send)
        await loop.sock_sendall(self.sock, message[sent:])
        reply = await self._receive(lambda m: m.get("id") == request_id and "pid" in m)
        return request_id, reply["pid"]

    async def exit_code(self, request_id: int) -> int:
        reply = await self._receive(lambda m: m.get("id") == request_id and "exit" in m)
        return reply["exit"]

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        end_group(self.process)
        self.sock.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    async def _send(self, message: dict) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, json.dumps(message).encode() + b"\n")

    async def _receive(self, wanted: Callable[[dict], bool]) -> dict:
        """The next message matching ``wanted``. Several runs wait at once (a run's next session
        starts while the one before runs): whoever reads keeps the others' messages for them."""
        loop = asyncio.get_running_loop()
        while True:
            found = self._claim(wanted)  # read by another waiter, maybe while this one waited
            if found is not None:
                return found
            async with self._read_lock:
                found = self._claim(wanted)
                if found is not None:
                    return found
                data = await loop.sock_recv(self.sock, 1 << 16)
                if not data:
                    code = self.process.poll()
                    why = "closed its socket" if code is None else describe_exit(code)
                    raise WarmUnavailable(f"the warm process ended ({why})")
                self._buffer += data
                *lines, self._buffer = self._buffer.split(b"\n")
                self._inbox += [json.loads(line) for line in lines]


    def _claim(self, wanted: Callable[[dict], bool]) -> dict | None:
        found = next((message for message in self._inbox if wanted(message)), None)
        if found is not None:
            self._inbox.remove(found)
        return found


async def _retry_on_full(loop, sock: socket.socket, send: Callable[[], int]) -> int:
    while True:
        try:
            return send()
        except BlockingIOError:
            ready = loop.create_future()
            loop.add_writer(sock, ready.set_result, None)
            try:
                await ready
            finally:
                loop.remove_writer(sock)


class WarmStart:
    """The warm process of one engine: starts it, checks it before each run, replaces it."""

    def __init__(
        self, python: str, root: Path, plugins: list[str], skip: list[Path],
        notify: Callable[[str], None],
    ) -> None:
        self.python = python
        self.root = root
        self.skip = skip
        self.notify = notify
        self._plugin_tops = {plugin.split(".")[0] for plugin in plugins}
        self.server: WarmServer | None = None
        self._starting: asyncio.Task | None = None
        self.disabled: str | None = None if _can_fork() else "this platform cannot fork"
        self._deaths = 0
        self._told: set[str] = set()
        self.forks_running = 0  # forked pytests whose exit the server has yet to report

    def prestart(self) -> None:
        """Start the warm process now, so the first run after an edit need not wait for it."""
        if not self.disabled and self._starting is None:
            self._starting = asyncio.ensure_future(self._start_server())

    def child(self, argv: list[str], cwd: Path, env: dict[str, str]) -> WarmChild:
        return WarmChild(argv, cwd, env, self)

    async def fork(self, child: WarmChild) -> bool:
        """Start ``child``'s pytest as a fork of the warm process; False when it must start cold."""
        if self.disabled:
            self._tell(f"warm start is off: {self.disabled}; pytest starts cold")
            return False
        try:
            server = await self._ready_server()
            changed = server.changed()
            if changed and self.forks_running:
                # Replacing the server now would lose the exit of the fork still running.
                self._tell(f"warm start: {changed} changed; this pytest starts cold", once=False)
                return False
            if changed:
                self._tell(f"warm start: {changed} changed; this run starts pytest cold and the "
                           "warm process restarts", once=False)
                self._replace()
                return False
            read_fd, write_fd = os.pipe()
            try:
                request_id, pid = await server.fork(child.argv, child.cwd, child.env, write_fd)
            finally:
                os.close(write_fd)
        except (WarmUnavailable, OSError, TimeoutError) as exc:
            self.server_died(str(exc) or type(exc).__name__)
            return False
        await child.attach(server, request_id, pid, read_fd)
        return True

    def server_died(self, why: str) -> None:
        """The warm process failed; after MAX_SERVER_DEATHS failures warm start stays off."""
        self._deaths += 1
        self._drop()
        if self._deaths >= MAX_SERVER_DEATHS:
            self.disabled = f"the warm process failed {self._deaths} times ({why})"
        self._tell(f"warm start: {why}; this run starts pytest cold", once=False)

    def close(self) -> None:
        """Stop the warm process, or its start (its forked children have their own process groups)."""
        self._drop()

    async def _ready_server(self) -> WarmServer:
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start_server())
        server = await asyncio.shield(self._starting)  # a cancelled run leaves it starting
        if server.report.get("unsafe"):
            self.disabled = f"forking after these imports is unsafe ({server.report['unsafe']})"
            self._drop()
            raise WarmUnavailable(self.disabled)
        return server

    async def _start_server(self) -> WarmServer:
        modules = await asyncio.to_thread(import_candidates, self.root, self.skip)
        modules = [*PYTEST_IMPORTS, *(m for m in modules if m.split(".")[0] not in self._plugin_tops)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("TESTWATCH_")}
        self.server = WarmServer(self.python, self.root, env)
        await self.server.handshake(modules)
        return self.server

    def _replace(self) -> None:
        self._drop()
        self._starting = asyncio.ensure_future(self._start_server())

    def _drop(self) -> None:
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        self._starting = None
        if self.server is not None:
            self.server.close()
            self.server = None

    def _tell(self, message: str, once: bool = True) -> None:
        if once and message in self._told:
            return
        self._told.add(message)
        self.notify(message)


class WarmChild(PytestChild):
    """A pytest forked from the warm process, or started cold when forking is not safe."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], warm: WarmStart) -> None:
        super().__init__(argv, cwd, env)
        self.warm = warm
        self.forked = False
        self._server: WarmServer | None = None
        self._request_id = 0
        self._pid: int | None = None

    async def start(self) -> None:
        if not await self.warm.fork(self):
            await super().start()

    async def attach(self, server: WarmServer, request_id: int, pid: int, output_fd: int) -> None:
        """Take over the forked pytest ``pid`` whose output comes from ``output_fd``."""
        self.forked = True
        self._server, self._request_id, self._pid = server, request_id, pid
        self.warm.forks_running += 1
        await self.drain(os.fdopen(output_fd, "rb", buffering=0))

    @property
    def pid(self) -> int | None:
        return self._pid if self.forked else super().pid

    async def _exit_code(self) -> int:
        if not self.forked:
            return await super()._exit_code()
        assert self._server is not None
        try:
            return await self._server.exit_code(self._request_id)
        except WarmUnavailable as exc:
            self.kill()
            self.warm.server_died(str(exc))
            return -signal.SIGKILL
        finally:
            self.warm.forks_running -= 1


def _can_fork() -> bool:
    return hasattr(os, "fork") and hasattr(socket, "send_fds") and os.name == "posix"
