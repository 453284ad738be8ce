"""Samples a process tree with psutil, from testwatch's own process: the pytest child and every
descendant (pytest-xdist workers, servers a test started) summed as one tree.

``psutil.Process`` objects are cached by (pid, create time), so CPU percentages are measured
between two samples of the same process and a reused pid is never mistaken for the old one.
Processes that vanish mid-sample are skipped. Finding descendants scans every process on the
machine (about 9 ms with a hundred processes), so the tree's membership is refreshed at most once
per ``TREE_REFRESH_S``; the processes already known are read at every sample.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psutil

TREE_REFRESH_S = 1.0
_GONE = (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess)


@dataclass(frozen=True)
class TreeSample:
    """One reading of the whole tree."""

    t_s: float  # monotonic seconds
    rss_bytes: int
    cpu_percent: float  # summed over processes: 200 means two cores busy
    threads: int
    processes: int


class ProcessTreeSampler:
    """Call ``sample()`` a few times a second; ``root_pid`` may change when the child restarts."""

    def __init__(self, root_pid: int | None = None) -> None:
        self.root_pid = root_pid
        self._known: dict[tuple[int, float], psutil.Process] = {}
        self._tree: list[psutil.Process] = []
        self._tree_root: int | None = None
        self._tree_at = 0.0

    def sample(self) -> TreeSample | None:
        """The tree's totals now, or None when the root process is gone."""
        if self.root_pid is None:
            return None
        now = time.monotonic()
        if self._tree_root != self.root_pid or now - self._tree_at >= TREE_REFRESH_S:
            try:
                root = self._cached(psutil.Process(self.root_pid))
                self._tree = [root, *root.children(recursive=True)]
            except _GONE:
                return None
            self._tree_root, self._tree_at = self.root_pid, now
        elif not self._tree[0].is_running():
            return None
        tree = self._tree
        rss_bytes = threads = processes = 0
        cpu_percent = 0.0
        alive: dict[tuple[int, float], psutil.Process] = {}
        for process in tree:
            try:
                process = self._cached(process)
                with process.oneshot():
                    rss_bytes += process.memory_info().rss
                    cpu_percent += process.cpu_percent()
                    threads += process.num_threads()
            except _GONE:
                continue
            processes += 1
            alive[_key(process)] = process
        self._known = alive
        if not processes:
            return None
        return TreeSample(time.monotonic(), rss_bytes, cpu_percent, threads, processes)

    def _cached(self, process: psutil.Process) -> psutil.Process:
        # The cached object remembers the CPU times of the previous sample.
        return self._known.get(_key(process), process)


def _key(process: psutil.Process) -> tuple[int, float]:
    return process.pid, process.create_time()
