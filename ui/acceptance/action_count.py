"""Counting the clerk's navigation actions from the input events that really reach the acceptance.

The issue's targets (a walk-in with an ID card in ≤ 25 navigation actions, an online application in
≤ 12) count what the clerk presses or clicks, not the characters of data only the applicant can
give. :class:`ActionCounter` is an application-wide event filter that looks at every key press and
mouse press delivered to a widget inside the clerk's acceptance widget:

* a mouse button press on any of its widgets is one action;
* a key press is one action, except a printable character typed into a text field (data) — typed
  Chinese arrives as input-method events, which are data too and never counted. Every other key
  is counted: Space on a check box, the arrow keys in a list, Ctrl+A, Tab, the function keys, and
  every Enter — also the Enter that ends a field just typed (it moves the clerk on; those are
  listed in ``data_enters`` too, so the breakdown shows how many). A fixed-format entry that moves
  on by itself when complete (``keys``) needs none;
* the applicant's own screen (a separate window: their signature and rating) is not the clerk's.

Qt delivers an ignored key or mouse event to the receiver's parent, then its parent…; each
delivery passes the application's filters, so the counter recognises a propagation (the same event
object arriving at the previous receiver's parent) and counts the press once.

Every counted action is kept with the step it happened in and a short description, for the
per-step breakdown ``make bench`` prints.

Thread contract: GUI thread only.
"""
from __future__ import annotations

from collections import Counter
from typing import Callable

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractButton, QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit, QWidget,
)

_MODIFIER_KEYS = (Qt.Key.Key_Control, Qt.Key.Key_Shift, Qt.Key.Key_Alt, Qt.Key.Key_Meta, Qt.Key.Key_AltGr)
_TEXT_INPUTS = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)
_COMMAND_MODIFIERS = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                      | Qt.KeyboardModifier.MetaModifier)


def _is_text_input(widget: QWidget) -> bool:
    if isinstance(widget, _TEXT_INPUTS):
        return not getattr(widget, "isReadOnly", lambda: False)()
    return isinstance(widget, QComboBox) and widget.isEditable()


def _describe_key(event) -> str:
    from PySide6.QtGui import QKeySequence

    combo = event.keyCombination() if hasattr(event, "keyCombination") else event.key()
    text = QKeySequence(combo).toString()
    return text or f"key {int(event.key()):#x}"


def _describe_widget(widget: QWidget) -> str:
    if isinstance(widget, QAbstractButton) and widget.text():
        return f"“{widget.text()}”"
    name = widget.accessibleName() or widget.objectName()
    return f"{type(widget).__name__}{f' {name}' if name else ''}"


class ActionCounter(QObject):
    """Counts navigation actions reaching ``root`` (see the module docstring).

    ``label()`` names the step the action belongs to (the script's current step)."""

    def __init__(self, root: QWidget, label: Callable[[], str] = lambda: ""):
        super().__init__(root)
        self.root = root
        self.label = label
        self.log: list[tuple[str, str]] = []      # (step, description) of each counted action
        self.data_enters: list[tuple[str, str]] = []   # Enters ending a typed entry (counted too)
        self._last: tuple[int, int, QWidget | None] = (0, 0, None)   # event pointer, type, receiver
        self._filled: QWidget | None = None   # the field data was just typed into
        QApplication.instance().installEventFilter(self)

    # ------------------------------------------------------------------ results
    @property
    def total(self) -> int:
        return len(self.log)

    def per_step(self) -> dict[str, int]:
        counts = Counter(step for step, _what in self.log)
        return dict(sorted(counts.items(), key=lambda kv: [s for s, _ in self.log].index(kv[0])))

    def breakdown(self) -> str:
        """One line per step: ``form 5: Enter↵, Enter↵, Down, F9, … (2 Enter↵ ending typed data)``."""
        lines = []
        for step in self.per_step():
            whats = [w for s, w in self.log if s == step]
            enters = sum(1 for s, _w in self.data_enters if s == step)
            extra = f" ({enters} Enter↵ ending typed data)" if enters else ""
            lines.append(f"{step or '-'} {len(whats)}: {', '.join(whats)}{extra}")
        return "\n".join(lines)

    def stop(self) -> None:
        """Stop counting (it stops by itself when the acceptance widget, its parent, is deleted)."""
        app = QApplication.instance()
        if app is not None and shiboken6.isValid(self):
            app.removeEventFilter(self)

    # ------------------------------------------------------------------ the filter
    def _inside(self, widget: QWidget) -> bool:
        w = widget
        while w is not None:          # through windows too: a popup of one of our combo boxes
            if w is self.root:
                return True
            w = w.parentWidget()
        return False

    def _propagated(self, event: QEvent, receiver: QWidget) -> bool:
        pointer = shiboken6.getCppPointer(event)[0]
        last_pointer, last_type, last_receiver = self._last
        self._last = (pointer, int(event.type()), receiver)
        return (pointer == last_pointer and int(event.type()) == last_type and last_receiver is not None
                and shiboken6.isValid(last_receiver) and last_receiver.parentWidget() is receiver)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind == QEvent.Type.InputMethod and isinstance(obj, QWidget) and event.commitString():
            self._filled = obj        # typed Chinese: data, and the field now holds some
            return False
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            return False
        if not isinstance(obj, QWidget) or not shiboken6.isValid(self.root) or not self._inside(obj):
            return False
        if self._propagated(event, obj):
            return False
        if kind == QEvent.Type.KeyPress:
            if event.isAutoRepeat() or event.key() in _MODIFIER_KEYS:
                return False          # a modifier alone is part of the chord that follows
            mods = event.modifiers()
            if event.text() and event.text().isprintable() and not mods & _COMMAND_MODIFIERS and _is_text_input(obj):
                self._filled = obj    # a character of data
                return False
            if (event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not mods & _COMMAND_MODIFIERS
                    and self._filled is not None and shiboken6.isValid(self._filled)
                    and (obj is self._filled or obj.isAncestorOf(self._filled))):
                self._filled = None   # the Enter that ends the entry of what was just typed
                self.data_enters.append((self.label(), "Enter"))
                self._record("Enter↵", obj)
                return False
            self._record(_describe_key(event), obj)
        else:
            self._record(f"click {_describe_widget(obj)}", obj)
        return False

    def _record(self, what: str, receiver: QWidget) -> None:
        self.log.append((self.label(), what))
        # arrow keys choosing in a closed list fill it: the Enter that follows ends that entry
        self._filled = receiver if what in ("Down", "Up") and isinstance(receiver, QComboBox) else None
