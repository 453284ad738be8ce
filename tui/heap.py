"""Garbage collector settings for the app: its heap is mostly long-lived (Textual's objects, then
every test's result), and a full collection walks all of it while keys wait.

Two measures keep those pauses away from keys: the objects of the started app are frozen (never
walked again), and full collections never start on their own: the app asks for one when the user
has not pressed a key for ``IDLE_S`` and ``FULL_COLLECTION_AFTER`` collections of the middle
generation have passed since the last (CPython's own rule is 10), or at once past
``OVERDUE_AFTER`` of them, so a user who never pauses still gets one. A full collection of a
2,000-test session takes 70-440 ms here: it was the longest stall of the app's loop during a run,
started by whichever thread (the app's or the watch loop's) crossed the threshold. Only garbage in
reference cycles waits longer for it.
"""

from __future__ import annotations

import gc

FULL_COLLECTION_AFTER = 100  # collections of generation 1 before a full one is due
OVERDUE_AFTER = 1000  # ... and before one runs even while keys come
IDLE_S = 1.0  # how long without a key before a due full collection runs
_NEVER = 1_000_000_000  # a threshold that automatic full collections never reach


def settle_startup_heap() -> tuple[int, int, int]:
    """Collect once, freeze what survives (the started app) and stop automatic full collections
    (``collect_when_idle`` runs them); returns the thresholds before, for ``release_heap``."""
    gc.collect()
    gc.freeze()
    before = gc.get_threshold()
    gc.set_threshold(before[0], before[1], _NEVER)
    return before


def collect_when_idle(idle_s: float) -> bool:
    """Run a full collection if one is due and the user has been idle ``idle_s`` long enough (or if
    it is overdue); whether it ran."""
    passed = gc.get_count()[2]  # collections of generation 1 since the last full one
    if passed >= OVERDUE_AFTER or (passed >= FULL_COLLECTION_AFTER and idle_s >= IDLE_S):
        gc.collect()
        return True
    return False


def release_heap(thresholds: tuple[int, int, int]) -> None:
    """Undo ``settle_startup_heap`` when the app ends (the process may go on, as under pytest)."""
    gc.unfreeze()
    gc.set_threshold(*thresholds)
