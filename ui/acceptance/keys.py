"""The stepper's keyboard: its own keys, and the keys that move the clerk on to the next field.

``stepper_key`` gives the stepper's meaning of a key (F9 / Ctrl+Enter next, F8 / Alt+← back, Esc
cancel, F5–F7 the step's actions, Ctrl+1…9 a step). ``EntryAdvance``: Enter, and an entry that is
complete, move the focus on to the next field still to fill:

* **Enter** in a text field or a combo box goes to the next field still empty (what the card, the
  platform or a default filled is passed by; Tab visits every field). At the step's last field to
  fill the stepper goes on to the next step instead (``enter`` answers False).
* **A complete fixed-format entry** — an 11-digit mobile number, an 18-character 公民身份号码 with
  the right check digit, a whole date (2026-09-01) or month (2018-09) — moves on by itself as its
  last character is typed (``fields.complete_entry``): the clerk's hands stay on the digits.
* The Enter a clerk presses out of habit right after such a jump lands in an empty field that has
  not been typed into: it is taken as the end of the entry just made, not as "skip this field",
  and the focus stays.

Thread contract: GUI thread only.
"""
from __future__ import annotations

import shiboken6
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from ui.acceptance.fields import is_empty, next_input


def stepper_key(stepper: Any, event: QKeyEvent) -> Callable[[], None] | None:
    """The stepper's own meaning of a key press, or None (then the key is left to others)."""
    key, mods = event.key(), event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    none, ctrl, alt = (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ControlModifier,
                       Qt.KeyboardModifier.AltModifier)
    if mods == none:
        table = {Qt.Key.Key_F9: stepper.go_next, Qt.Key.Key_F8: stepper.go_back, Qt.Key.Key_Escape: stepper.cancel,
                 Qt.Key.Key_F5: lambda: stepper.trigger_action("F5"), Qt.Key.Key_F6: lambda: stepper.trigger_action("F6"),
                 Qt.Key.Key_F7: lambda: stepper.trigger_action("F7")}
        return table.get(key)
    if mods == ctrl and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
        return stepper.go_next
    if mods == alt and key == Qt.Key.Key_Left:
        return stepper.go_back
    if mods == ctrl and Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
        n = int(key) - int(Qt.Key.Key_1)
        return lambda: stepper.goto(n) if n < len(stepper.steps) else None
    return None


class EntryAdvance(QObject):
    """Moves the focus of the stepper's (its parent's) current step on to the next field."""

    def __init__(self, stepper: QWidget):
        # the stepper is the parent, asked for when needed: an attribute holding it would make a
        # reference cycle that keeps a closed acceptance alive until the cycle collector runs
        super().__init__(stepper)
        self._arrived: QWidget | None = None   # where the last complete entry moved the focus

    def watch(self, step: QWidget) -> None:
        """Follow the complete entries of ``step``'s fields (a step without a field set has none)."""
        fs = getattr(step, "fs", None)
        if fs is not None:
            fs.completed.connect(lambda widget, s=step: self._completed(s, widget))

    def _completed(self, step: QWidget, widget: QWidget) -> None:
        if self.parent().current is not step or not widget.hasFocus():
            return
        nxt = self.move_on(step, widget)
        self._arrived = nxt if nxt is not None and is_empty(nxt) else None

    @staticmethod
    def move_on(page: QWidget, focus: QWidget) -> QWidget | None:
        """Focus the next field still to fill after ``focus``; None at the page's last one."""
        nxt = next_input(page, focus, empty_only=True)
        if nxt is not None:
            nxt.setFocus(Qt.FocusReason.TabFocusReason)
            if isinstance(nxt, QLineEdit):
                nxt.selectAll()
        return nxt

    def enter(self, focus: QWidget | None) -> bool:
        """Enter pressed with ``focus``: True when it was taken here (the focus moved on, or it ended
        the entry that had just moved the focus), False when the stepper should go to the next step."""
        arrived, self._arrived = self._arrived, None
        if focus is None or not shiboken6.isValid(focus):
            return False
        field = focus.parentWidget() if isinstance(focus.parentWidget(), QComboBox) else focus
        if arrived is not None and shiboken6.isValid(arrived) and field is arrived and is_empty(arrived):
            return True
        if isinstance(field, (QLineEdit, QComboBox)):
            return self.move_on(self.parent().current, field) is not None
        return False
