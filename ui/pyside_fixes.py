"""Workarounds for defects of the installed PySide6, applied once at import.

``SignalInstance.emit()`` in PySide6 6.12.0 returns ``True`` without taking a reference, so
every ``signal.emit(...)`` made from Python takes one reference away from ``True``. On Python
3.12+ the bools are immortal and nothing happens; on 3.11 (this project's floor) the count of
``True`` reaches zero after some thousands of emissions — a camera preview gets there in minutes —
and the interpreter aborts with "Fatal Python error: bool_dealloc". The fix here measures
whether the running PySide6 has the defect (ten emissions of a private signal) and, only then,
makes ``True`` and ``False`` effectively immortal the way 3.12 does: a large constant is added to
their reference counts. The two singletons are never freed anyway, so nothing else changes.

Imported by ``ui.app`` (every way the application starts) and by the UI tests' conftest.
The lasting fix is a PySide6 without the defect or Python ≥ 3.12.
"""
from __future__ import annotations

import sys

_IMMORTAL_MARGIN = 1 << 40
applied = False


def emit_leaks_a_bool_reference() -> bool:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(10):
        probe.ping.emit()
    return sys.getrefcount(True) <= before - 10


def _make_bools_immortal() -> None:
    import ctypes  # only where the defect is present: it is not needed at every start

    # CPython keeps ob_refcnt as the first field (Py_ssize_t) of every object.
    for value in (True, False):
        ctypes.c_ssize_t.from_address(id(value)).value += _IMMORTAL_MARGIN


def apply() -> bool:
    """Idempotent; returns whether the bool shield is in place."""
    global applied
    if applied:
        return True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    if emit_leaks_a_bool_reference():
        _make_bools_immortal()
        applied = True
    return applied


apply()
