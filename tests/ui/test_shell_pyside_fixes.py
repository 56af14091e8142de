"""Signals can be emitted without limit: PySide6 6.12.0's emit() drops a reference to True on
each call, which on Python 3.11 aborts the interpreter after some thousands (ui.pyside_fixes)."""
from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

import ui.pyside_fixes as fixes


class _Ticker(QObject):
    tick = Signal(int)


def test_many_emissions_leave_true_alive(app):
    ticker = _Ticker()
    received = []
    ticker.tick.connect(received.append)
    before = sys.getrefcount(True)
    for n in range(30_000):  # more than True's whole reference count on an unprotected 3.11
        ticker.tick.emit(n)
    assert len(received) == 30_000
    assert sys.getrefcount(True) > 1000
    if fixes.emit_leaks_a_bool_reference():
        assert fixes.applied and before > 1 << 39
