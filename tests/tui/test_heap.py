"""The app's garbage collector settings: full collections wait for a pause in the keys, and walk only
what is newer than the last one; a deep collection gives back the cycles frozen objects left."""

from __future__ import annotations

import gc
import weakref

from testwatch.tui.heap import FULL_COLLECTION_AFTER, IDLE_S, OVERDUE_AFTER, AppHeap


class Cycle:
    """An object in a reference cycle: only the cycle collector frees it."""

    def __init__(self) -> None:
        self.me = self


def _middle_collections(count: int) -> None:
    for _ in range(count):
        gc.collect(1)


def _frozen_garbage(heap: AppHeap) -> weakref.ref:
    """A cycle frozen by an overdue collection while alive, then dropped: garbage only a deep
    collection walks. Returns a weak reference to it."""
    cycle = Cycle()
    gone = weakref.ref(cycle)
    _middle_collections(OVERDUE_AFTER)
    assert heap.collect_when_idle(idle_s=0.0) == "frozen"  # the cycle is frozen, still alive
    del cycle
    return gone


def test_allocations_no_longer_start_a_full_collection() -> None:
    heap = AppHeap()
    heap.settle()
    try:
        threshold = gc.get_threshold()
        kept = [[] for _ in range(threshold[0] * threshold[1] * FULL_COLLECTION_AFTER * 3 // 2)]
        assert gc.get_count()[2] >= FULL_COLLECTION_AFTER  # CPython's threshold would have reset it
        del kept
    finally:
        heap.release()


def test_a_due_full_collection_waits_for_an_idle_user_and_freezes_what_survives() -> None:
    heap = AppHeap(deep_growth=1e9)  # never deep
    heap.settle()
    try:
        _middle_collections(FULL_COLLECTION_AFTER - 1)
        assert heap.collect_when_idle(idle_s=IDLE_S * 10) is None  # not due yet
        _middle_collections(1)
        assert heap.collect_when_idle(idle_s=0.0) is None  # due, but keys are coming
        assert gc.get_count()[2] >= FULL_COLLECTION_AFTER
        survivor = [Cycle()]
        frozen = gc.get_freeze_count()
        assert heap.collect_when_idle(idle_s=IDLE_S) == "full"
        assert gc.get_count()[2] == 0
        assert gc.get_freeze_count() > frozen and survivor[0].me is survivor[0]
    finally:
        heap.release()


def test_an_overdue_collection_freezes_at_once_while_keys_come() -> None:
    heap = AppHeap()
    heap.settle()
    try:
        _middle_collections(OVERDUE_AFTER)
        frozen = gc.get_freeze_count()
        young = [[] for _ in range(100)]
        assert heap.collect_when_idle(idle_s=0.0) == "frozen"
        assert gc.get_count()[2] == 0  # not overdue at the next check
        assert gc.get_freeze_count() >= frozen + len(young)
    finally:
        heap.release()


def test_a_cycle_frozen_while_alive_is_freed_by_a_deep_collection_only() -> None:
    heap = AppHeap(deep_growth=1e9)  # not deep until told
    heap.settle()
    try:
        gone = _frozen_garbage(heap)
        _middle_collections(FULL_COLLECTION_AFTER)
        assert heap.collect_when_idle(idle_s=IDLE_S) == "full"
        assert gone() is not None  # frozen garbage: a full collection does not walk it
        _middle_collections(FULL_COLLECTION_AFTER)
        heap.deep_growth = 0  # the frozen objects "grew" enough
        assert heap.collect_when_idle(idle_s=IDLE_S) == "deep"
        assert gone() is None
    finally:
        heap.release()


def test_a_requested_deep_collection_runs_when_the_user_is_next_idle() -> None:
    heap = AppHeap(deep_growth=1e9)  # never deep unless asked
    heap.settle()
    try:
        gone = _frozen_garbage(heap)
        heap.request_deep()  # what the watch loop does after a run
        assert heap.collect_when_idle(idle_s=0.0) is None  # keys are coming
        assert gone() is not None
        assert heap.collect_when_idle(idle_s=IDLE_S) == "deep"  # though few collections have passed
        assert gone() is None
        _middle_collections(FULL_COLLECTION_AFTER)
        assert heap.collect_when_idle(idle_s=IDLE_S) == "full"  # asked once, deep once
    finally:
        heap.release()


def test_release_gives_back_the_thresholds() -> None:
    before = gc.get_threshold()
    heap = AppHeap()
    heap.settle()
    heap.release()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
