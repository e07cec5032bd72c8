"""Keep the server's memory small on a Raspberry Pi (glibc's allocator, Linux only).

Each scrypt check allocates 8 MiB. glibc serves a freed large block's size from the heap
afterwards (its mmap threshold adapts upwards), and gives each thread its own arena, so with
eight Waitress threads the freed blocks pile up: measured here, peak memory under a rush of
posts went from 57 MB to 126 MB. A fixed mmap threshold returns big blocks to the system at
once, and two arenas are plenty for two cores.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def tune_malloc() -> bool:
    """Returns whether glibc accepted the settings (False elsewhere: musl, macOS)."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = mallopt(M_ARENA_MAX, 2) == 1
    return mallopt(M_MMAP_THRESHOLD, 256 * 1024) == 1 and ok


def give_back_freed() -> bool:
    """Hand memory freed during start-up (the live file parsed and checked) back to the system:
    otherwise it stays in the heap for the server's life."""
    import gc

    gc.collect()
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        return ctypes.CDLL(name).malloc_trim(0) == 1
    except (OSError, AttributeError):
        return False
