"""How the watch process keeps glibc's malloc from holding memory it no longer uses.

glibc gives every thread that allocates an arena of its own (up to eight per core), and a heap
keeps the free memory of its busiest moment. Each run's dependency recording allocates and frees
a few megabytes (SQLite's page cache on a fresh connection, coverage.py's in-memory databases);
in issue 14's soak that freed memory stayed resident, in holes between live objects and in one
arena per thread, and testwatch's RSS grew 7-20% over 30 minutes while its Python objects (under
tracemalloc) and SQLite's own count stayed flat. So the watch loop's threads, which take turns
under the GIL anyway, share one arena, and the free pages go back to the OS after every run.
"""

from __future__ import annotations

import functools
import os

M_ARENA_MAX = -8  # glibc's mallopt parameter (<malloc.h>)


@functools.cache
def _glibc():
    """The C library when it is glibc (None elsewhere: musl, macOS, Windows)."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
    except (AttributeError, ValueError, OSError):
        return None
    import ctypes  # here: only a process that watches pays for it

    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


def use_one_malloc_arena() -> bool:
    """Ask glibc for one arena, as ``MALLOC_ARENA_MAX=1`` would; threads that already have an arena
    keep it. Not when the user set ``MALLOC_ARENA_MAX``. Returns whether the limit was set."""
    libc = _glibc()
    if libc is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return libc.mallopt(M_ARENA_MAX, 1) == 1


def release_free_memory() -> bool:
    """Give the free pages of every arena back to the OS (``malloc_trim``); a millisecond or so.
    Returns whether any memory was released."""
    libc = _glibc()
    return libc is not None and libc.malloc_trim(0) == 1
