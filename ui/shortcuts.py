"""Shortcuts bound to one widget.

PySide6's ``QShortcut(key, parent, slot, context=…)`` (and the positional form) drops the context:
the shortcut ends up window-wide. The worklist's "Down from the search box goes into the list" then
took every Down in the window, so the arrow never moved in the list and Enter opened the row the
clerk meant to leave. :func:`shortcut` sets the context after construction.

Thread contract: GUI thread only.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:  # only named: importing it would build Qt's namespace (see ui.app.ensure_application)
    from PySide6.QtCore import Qt


def shortcut(key: QKeySequence, parent: QWidget, slot: Callable[[], object],
             context: Qt.ShortcutContext) -> QShortcut:
    """A shortcut on ``parent`` active only in ``context`` (the context really applied)."""
    s = QShortcut(key, parent)
    s.setContext(context)
    s.activated.connect(slot)
    return s
