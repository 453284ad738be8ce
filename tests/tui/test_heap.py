"""The app's garbage collector settings: full collections wait for a pause in the keys."""

from __future__ import annotations

import gc

from testwatch.tui.heap import (
    FULL_COLLECTION_AFTER,
    IDLE_S,
    OVERDUE_AFTER,
    collect_when_idle,
    release_heap,
    settle_startup_heap,
)


def _middle_collections(count: int) -> None:
    for _ in range(count):
        gc.collect(1)


def test_allocations_no_longer_start_a_full_collection() -> None:
    before = settle_startup_heap()
    try:
        kept = [[] for _ in range(before[0] * before[1] * FULL_COLLECTION_AFTER * 3 // 2)]
        assert gc.get_count()[2] >= FULL_COLLECTION_AFTER  # CPython's threshold would have reset it
        del kept
    finally:
        release_heap(before)


def test_a_due_full_collection_waits_for_an_idle_user() -> None:
    before = settle_startup_heap()
    try:
        _middle_collections(FULL_COLLECTION_AFTER - 1)
        assert not collect_when_idle(idle_s=IDLE_S * 10)  # not due yet
        _middle_collections(1)
        assert not collect_when_idle(idle_s=0.0)  # due, but keys are coming
        assert gc.get_count()[2] >= FULL_COLLECTION_AFTER
        assert collect_when_idle(idle_s=IDLE_S)
        assert gc.get_count()[2] == 0
    finally:
        release_heap(before)


def test_an_overdue_full_collection_runs_even_while_keys_come() -> None:
    before = settle_startup_heap()
    try:
        _middle_collections(OVERDUE_AFTER)
        assert collect_when_idle(idle_s=0.0)
        assert gc.get_count()[2] == 0
    finally:
        release_heap(before)


def test_release_gives_back_the_thresholds() -> None:
    before = gc.get_threshold()
    release_heap(settle_startup_heap())
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
