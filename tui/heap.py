"""Garbage collector settings for the app: its heap is mostly long-lived (Textual's objects, then
every test's result), and a full collection walks all of it while keys wait.

Two measures keep those pauses out of a stream of results: the objects of the started app are frozen
(never walked again), and full collections wait for 100 collections of the middle generation instead
of 10 (CPython also waits until a quarter of the old objects are new), so a 10,000-result run causes
about one full collection instead of a few. Only garbage in reference cycles waits longer for it.
"""

from __future__ import annotations

import gc

FULL_COLLECTION_AFTER = 100  # collections of generation 1 (CPython's default is 10)


def settle_startup_heap() -> tuple[int, int, int]:
    """Collect once, freeze what survives (the started app) and space out full collections; returns
    the thresholds before, for ``release_heap``."""
    gc.collect()
    gc.freeze()
    before = gc.get_threshold()
    gc.set_threshold(before[0], before[1], FULL_COLLECTION_AFTER)
    return before


def release_heap(thresholds: tuple[int, int, int]) -> None:
    """Undo ``settle_startup_heap`` when the app ends (the process may go on, as under pytest)."""
    gc.unfreeze()
    gc.set_threshold(*thresholds)
