"""A device that must be used from one thread says so, cheaply (Electrum's habit).

Serial drivers and vendor libraries keep per-connection state that is not safe to share: the
first thread that uses the device owns it, and a call from any other thread is a programming
error raised at once, instead of a garbled frame much later.
"""
from __future__ import annotations

import threading


class OneThread:
    """Remembers the first thread that calls :meth:`check`; any other thread then raises."""

    def __init__(self, what: str):
        self.what = what
        self._owner: int | None = None

    def check(self) -> None:
        me = threading.get_ident()
        if self._owner is None:
            self._owner = me
        elif self._owner != me:
            raise RuntimeError(f"{self.what} is used from one thread only (owner {self._owner}, called from {me})")

    def release(self) -> None:
        """Let the next caller own it (after the owning thread ended)."""
        self._owner = None
