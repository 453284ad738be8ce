"""Garbage collector settings for the app: its heap is mostly long-lived (Textual's objects, then
every test's result), and a full collection walks all of it while keys wait.

Full collections never start on their own, and what survives one is frozen (``gc.freeze``: never
walked again), so the next walks only what is newer. The app asks for one when the user has not
pressed a key for ``IDLE_S`` and ``FULL_COLLECTION_AFTER`` collections of the middle generation have
passed since the last (CPython's own rule is 10). Past ``OVERDUE_AFTER`` of them while keys keep
coming, everything is frozen at once instead, which walks nothing. Garbage in reference cycles among
frozen objects waits for a deep collection, which unfreezes everything first: an idle one, once the
frozen objects have doubled since the last, or when asked (``request_deep``: the watch loop frees a
finished run's cycles, coverage.py's in-memory databases among them, with it; run in the watch
loop's thread, that collection held the app's loop 0.8 s after a 2,000-test run). A full collection
of a 27,000-test session walked 0.7-2.7 s here (a 2,000-test one 70-440 ms): the longest stall of
the app's loop during a run, started by whichever thread crossed CPython's threshold.
"""

from __future__ import annotations

import gc

FULL_COLLECTION_AFTER = 100  # collections of generation 1 before a full one is due
OVERDUE_AFTER = 1000  # ... and before everything is frozen even while keys come
IDLE_S = 1.0  # how long without a key before a due full collection runs
DEEP_GROWTH = 2  # a deep collection once the frozen objects grew this many times since the last
_NEVER = 1_000_000_000  # a threshold that automatic full collections never reach


class AppHeap:
    """The app's collector policy, from ``settle`` (the app started) to ``release`` (it ends)."""

    def __init__(self, deep_growth: float = DEEP_GROWTH) -> None:
        self.deep_growth = deep_growth
        self._thresholds: tuple[int, int, int] | None = None  # CPython's, while settled
        self._deep_mark = 0  # frozen objects after the last deep collection
        self._deep_requested = False  # set from any thread; a bool's assignment is atomic

    def settle(self) -> None:
        """Collect once, freeze what survives (the started app) and stop automatic full collections."""
        gc.collect()
        gc.freeze()
        self._deep_mark = gc.get_freeze_count()
        self._thresholds = gc.get_threshold()
        gc.set_threshold(self._thresholds[0], self._thresholds[1], _NEVER)

    def request_deep(self) -> None:
        """Ask for a deep collection when the user is next idle (from any thread, at once)."""
        self._deep_requested = True

    def collect_when_idle(self, idle_s: float) -> str | None:
        """Collect if a collection is due: "deep", "full" or "frozen" (what ran), or None."""
        passed = gc.get_count()[2]  # collections of generation 1 since the last full one
        if (passed >= FULL_COLLECTION_AFTER or self._deep_requested) and idle_s >= IDLE_S:
            deep = self._deep_requested or gc.get_freeze_count() >= self.deep_growth * self._deep_mark
            if deep:
                self._deep_requested = False
                gc.unfreeze()
            gc.collect()
            gc.freeze()
            if deep:
                self._deep_mark = gc.get_freeze_count()
            return "deep" if deep else "full"
        if passed >= OVERDUE_AFTER:
            gc.freeze()
            gc.collect()  # walks nothing now (everything is frozen); starts the count again
            return "frozen"
        return None

    def release(self) -> None:
        """Undo ``settle`` when the app ends (the process may go on, as under pytest)."""
        if self._thresholds is not None:
            gc.unfreeze()
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
