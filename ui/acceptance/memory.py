"""What a day of acceptances needs from the process: slow tables loaded before the first use, big
buffers kept out of glibc's heap, freed memory given back to the system.

Thread contract: ``warm_up`` and ``release_memory`` run on ``ctx.tasks.io`` (or any thread);
``tune_allocator`` is process-wide and may be called from anywhere.
"""
from __future__ import annotations


def warm_up() -> None:
    """``ctx.tasks.io``: load what the first use of each step would otherwise load on the GUI thread."""
    from counter_app.identity import check_id_number

    check_id_number("410702198506120039")   # python-stdnum's region table: ~0.7 s the first time
    # The photo package is imported here, once, before the camera thread and the photo results
    # (unpickled on a worker) need it: two threads importing it at the same moment can trip over
    # its package-internal import cycle.
    import devices.photo  # noqa: F401
    from ui.acceptance import render_pool

    render_pool.warm_up()



def tune_allocator() -> None:
    """Keep big buffers (page images, camera frames, PDFs: 1–20 MB each) out of glibc's heap.

    glibc raises its mmap threshold each time such a block is freed, after which the next ones come
    from the heap and stay mapped when freed: over a day of acceptances the process only grows
    (measured: ~15 MB per acceptance). A fixed 1 MB threshold gives every big buffer its own
    mapping, returned to the system when freed. Process-wide; harmless to call more than once.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 20)    # M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # not glibc
        pass


def release_memory() -> None:
    """Give the heap freed by an acceptance (page images, photo arrays) back to the system: the
    window runs all day, and glibc otherwise keeps freed arenas mapped."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (Windows, macOS): nothing to do
        pass
