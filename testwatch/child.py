"""The pytest child process: its own process group, its output drained, the tail kept."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections import deque
from pathlib import Path

_KEPT_LINE_BYTES = 2000
# Stack lines of pytest's own machinery, left out of a crash report's tail.
_FRAMEWORK_FRAMES = (
    "/_pytest/", "/pluggy/", "<frozen runpy>", "/pytest/__main__.py", "/threading.py",
    "pytest_plugin.py",
)


class PytestChild:
    """A running pytest process; output is drained so the child never blocks on a full pipe."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.argv = argv
        self.cwd = cwd
        self.env = env
        self.process: asyncio.subprocess.Process | None = None
        self.output_tail: deque[str] = deque(maxlen=400)
        self._drain: asyncio.Task | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: one kill reaches every descendant
        )
        assert self.process.stdout is not None
        self._drain = asyncio.create_task(self._read_output(self.process.stdout))

    async def _read_output(self, stdout: asyncio.StreamReader) -> None:
        # Chunks, not readline(): one line longer than the stream limit must not stop the drain
        # (a child blocked on a full pipe would look like a hung test).
        partial = b""
        while chunk := await stdout.read(65536):
            *lines, partial = (partial + chunk).split(b"\n")
            partial = partial[:_KEPT_LINE_BYTES]
            for line in lines:
                self._keep(line)
        if partial:
            self._keep(partial)

    def _keep(self, line: bytes) -> None:
        self.output_tail.append(line[:_KEPT_LINE_BYTES].decode("utf-8", "replace"))

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def kill(self) -> None:
        """SIGKILL the whole process group (pytest, xdist workers, anything a test started)."""
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)

    async def wait(self) -> int:
        code = await self._exit_code()
        if self._drain is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._drain, timeout=2)
        # Anything the tests left running in the group goes too.
        self.kill()
        return code

    async def _exit_code(self) -> int:
        assert self.process is not None
        return await self.process.wait()

    def tail(self, lines: int = 20) -> str:
        """The last output lines; for a fatal error, its report without pytest's own frames."""
        output = list(self.output_tail)
        fatal = [i for i, line in enumerate(output) if "Fatal Python error" in line]
        if fatal:
            output = [
                line for line in output[fatal[-1] :]
                if not any(part in line for part in _FRAMEWORK_FRAMES)
            ]
        return "\n".join(output[-lines:])


class StartedChild(PytestChild):
    """A pytest process started before the event loop ran (``testwatch.launch``), watched from here on."""

    def __init__(self, popen: subprocess.Popen, cwd: Path, env: dict[str, str]) -> None:
        super().__init__(list(popen.args), cwd, env)
        self.popen = popen

    async def start(self) -> None:
        reader = asyncio.StreamReader()
        await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), self.popen.stdout
        )
        self._drain = asyncio.create_task(self._read_output(reader))

    @property
    def pid(self) -> int | None:
        return self.popen.pid

    async def _exit_code(self) -> int:
        return await asyncio.to_thread(self.popen.wait)


def describe_exit(code: int) -> str:
    """``exit code 3`` or ``killed by SIGSEGV``."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
