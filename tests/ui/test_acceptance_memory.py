"""A closed acceptance screen is freed at once, not at the next full garbage collection.

A bound method of the widget stored on one of its steps once made a reference cycle, so every
finished acceptance kept its page previews (≈10 MB of QImages) until Python's cycle collector
happened to run: the GUI process grew ~12 MB per applicant.
"""
from __future__ import annotations

import gc
import weakref

from PySide6.QtCore import QCoreApplication, QEvent


def test_deleted_acceptance_widget_is_freed_without_the_cycle_collector(ctx, qtbot):
    from ui.acceptance import AcceptanceWidget

    widget = AcceptanceWidget(ctx)
    widget.resize(1366, 768)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: not ctx.tasks.busy, timeout=30_000)  # no callback of it in flight
    ref = weakref.ref(widget)
    gc.collect()
    gc.disable()  # only reference counting may free it
    try:
        widget._autosave.stop()
        widget.close()
        widget.deleteLater()
        del widget
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QCoreApplication.processEvents()
        assert ref() is None
    finally:
        gc.enable()
