"""The pytest child process: its own process group, its output drained, the tail kept."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from testwatch.run.process_group import kill_group, start_in_group
from testwatch.run.resting_reader import RestingReader

_KEPT_LINE_BYTES = 2000
# Stack lines of pytest's own machinery, left out of a crash report's tail.
_FRAMEWORK_FRAMES = (
    "/_pytest/", "/pluggy/", "<frozen runpy>", "/pytest/__main__.py", "/threading.py",
    "pytest_plugin.py",
)


class OutputTail(RestingReader):
    """Keeps the child's output lines (cut to ``_KEPT_LINE_BYTES``) as they come, in batches.

    Chunks, not lines: one line longer than any buffer must not stop the drain (a child blocked
    on a full pipe would look like a hung test). A child writing a lot is read without rests.
    """

    def __init__(self, keep: Callable[[bytes], None], done: asyncio.Future) -> None:
        self.keep = keep
        self.done = done
        self._partial = b""

    def data_received(self, data: bytes) -> None:
        *lines, partial = (self._partial + data).split(b"\n")
        self._partial = partial[:_KEPT_LINE_BYTES]
        for line in lines:
            self.keep(line)
        self.rest(len(data))

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self._partial:
            self.keep(self._partial)
        if not self.done.done():
            self.done.set_result(None)


class PytestChild:
    """A running pytest process; output is drained so the child never blocks on a full pipe."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.argv = argv
        self.cwd = cwd
        self.env = env
        self.process: subprocess.Popen | None = None
        self.output_tail: deque[str] = deque(maxlen=400)
        self._drain: asyncio.Future | None = None
        self._output: asyncio.ReadTransport | None = None

    async def start(self) -> None:
        self.process = start_in_group(self.argv, self.cwd, self.env, stdout=subprocess.PIPE)
        await self.drain(self.process.stdout)

    async def drain(self, pipe: BinaryIO) -> None:
        """Read the child's output from ``pipe`` until it closes, keeping the tail."""
        loop = asyncio.get_running_loop()
        self._drain = loop.create_future()
        self._output, _ = await loop.connect_read_pipe(lambda: OutputTail(self._keep, self._drain), pipe)

    def close_output(self) -> None:
        """Stop reading the output pipe: after the child's end, only a process that escaped its
        process group could still be writing, and our end of the pipe must not stay open for it."""
        if self._output is not None:
            self._output.close()

    def _keep(self, line: bytes) -> None:
        self.output_tail.append(line[:_KEPT_LINE_BYTES].decode("utf-8", "replace"))

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def kill(self) -> None:
        """SIGKILL the whole process group (pytest, xdist workers, anything a test started)."""
        if self.pid is not None:
            kill_group(self.pid)

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
        return await asyncio.to_thread(self.process.wait)

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
    """A pytest process started before the event loop ran (``testwatch.run.launch``), watched from here on."""

    def __init__(self, popen: subprocess.Popen, cwd: Path, env: dict[str, str]) -> None:
        super().__init__(list(popen.args), cwd, env)
        self.process = popen

    async def start(self) -> None:
        await self.drain(self.process.stdout)


def describe_exit(code: int) -> str:
    """``exit code 3`` or ``killed by SIGSEGV``."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
