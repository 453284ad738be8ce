"""The pytest child: its command line, its own process group, and the tail of its output."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections import deque
from pathlib import Path

from testwatch.collectors import protocol

# The modules the child imports from testwatch: the plugin and what it needs, standard library only.
CHILD_MODULES = (
    "__init__", "protocol", "pytest_plugin", "warm_server", "peak_memory", "memray_plugin", "leak_hunt",
    "deps_plugin", "memray_windows", "line_monitor",
)
DEFAULT_PLUGINS = (
    "testwatch.collectors.pytest_plugin",
    "testwatch.collectors.peak_memory",
    "testwatch.collectors.memray_plugin",
)
_KEPT_LINE_BYTES = 2000
# Stack lines of pytest's own machinery, left out of a crash report's tail.
_FRAMEWORK_FRAMES = (
    "/_pytest/", "/pluggy/", "<frozen runpy>", "/pytest/__main__.py", "/threading.py",
    "pytest_plugin.py",
)


def pytest_command(
    python: str, plugins: list[str], args: list[str], history_dir: Path | None, root: Path
) -> list[str]:
    """The child's argv: an argument list, never a shell string."""
    argv = [python, "-m", "pytest"]
    for plugin in plugins:
        argv += ["-p", plugin]
    argv.append("--continue-on-collection-errors")
    if history_dir is not None and history_dir != root and history_dir.is_relative_to(root):
        argv.append(f"--ignore={history_dir}")
    return argv + args


def plugin_path_for(python: str, workdir: Path) -> str | None:
    """A PYTHONPATH entry holding testwatch's child-side modules, for a foreign interpreter.

    The interpreter testwatch runs in imports them from the installed package; another one
    (``--python``) gets a copy of just these standard-library-only files.
    """
    # Not realpath: a venv's python is a symlink to the same binary as every other venv's.
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        return None
    target = workdir / "shim" / "testwatch" / "collectors"
    target.mkdir(parents=True)
    (target.parent / "__init__.py").write_text("")
    source = Path(protocol.__file__).parent
    for name in CHILD_MODULES:
        shutil.copy(source / f"{name}.py", target / f"{name}.py")
    return str(workdir / "shim")


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


def describe_exit(code: int) -> str:
    """``exit code 3`` or ``killed by SIGSEGV``."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
