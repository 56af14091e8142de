"""Form fields bound to the application by dotted path ("applicant.phone"), each with its own
inline message line, so ``rules.validate`` problems (which name the same paths) land under the
field they concern.

Thread contract: GUI thread only.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget,
)

from counter_app.application import Application, get_path, set_path
from counter_app.identity import check_id_number
from counter_app.problems import Problem
from ui.acceptance.style import set_invalid, set_role

TRI_STATE = (("未核验", None), ("是", True), ("否", False))


class FocusCombo(QComboBox):
    """A combo box the mouse wheel changes only while it has the keyboard focus.

    Qt's default (``WheelFocus``) lets a wheel turned over a form, to scroll it, change whatever
    combo box passes under the pointer, silently: a platform-verified 是 became 否 that way. Here the
    wheel over an unfocused combo box scrolls the page instead.
    """

    chosen_by_key = Signal()   # a digit chose an entry (the field set moves the focus on)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not self.hasFocus():
            event.ignore()   # to the scroll area behind it
            return
        super().wheelEvent(event)

    def choices(self) -> list[int]:
        """The entries a digit chooses, in order: every entry but the tri-state's "no answer"."""
        return [i for i in range(self.count()) if not (self.itemText(i) == TRI_STATE[0][0] and self.itemData(i) is None)]

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        """In a fixed list, 1…9 choose the n-th entry (named in the placeholder and the tooltip): one
        key for 未婚 or 是 instead of arrows and Enter, and the focus moves on (``FieldSet``). Chinese
        entries cannot be searched by typing on a closed list, so digits are the keyboard's way."""
        text = event.text()
        if (not self.isEditable() and len(text) == 1 and "1" <= text <= "9"
                and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier):
            choices = self.choices()
            n = int(text) - 1
            if n < len(choices):
                self.setCurrentIndex(choices[n])
                self.activated.emit(choices[n])
                self.chosen_by_key.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def number_choices(self) -> None:
        """Say which digit chooses what (placeholder while nothing is chosen, and the tooltip)."""
        names = [f"{k + 1} {self.itemText(i)}" for k, i in enumerate(self.choices()[:9])]
        self.setPlaceholderText("按数字键选择：" + "　".join(names))
        self.setToolTip("按数字键选择：" + "　".join(names))
        # the style sheet's text colour would draw the placeholder like a chosen value: a property
        # lets app.qss grey it while nothing is chosen
        self.currentIndexChanged.connect(self._show_unchosen)
        self._show_unchosen()

    def _show_unchosen(self, *_args) -> None:
        unchosen = self.currentIndex() < 0
        if self.property("unchosen") != unchosen:
            self.setProperty("unchosen", unchosen)
            self._repolish()

    def _repolish(self) -> None:
        self.style().unpolish(self)
        self.style().polish(self)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        # The style sheet keeps the rules a widget matched when it was first polished, before the
        # step was put inside the acceptance screen: shown there, an unchosen list matches again.
        if self.property("unchosen"):
            self._repolish()
        super().showEvent(event)


def is_empty(widget: QWidget) -> bool:
    """Nothing filled in yet: an empty text, an editable combo without text, a combo with no choice
    or at 未核验 (the tri-state's "no answer")."""
    if isinstance(widget, QLineEdit):
        return not widget.text().strip()
    if isinstance(widget, QComboBox):
        if widget.isEditable():
            return not widget.currentText().strip()
        return widget.currentIndex() < 0 or (widget.itemData(widget.currentIndex()) is None
                                             and widget.currentText() == TRI_STATE[0][0])
    return False


# A widget property: an optional field Enter passes by while empty (filled by the program or the
# platform when there is something to fill: a division code recognised from an address, a bank
# account from data sharing); Tab and a click still reach it.
ENTER_SKIPS = "enterSkips"


def first_to_fill(page: QWidget, paths: Iterable[str], fields: dict) -> QWidget | None:
    """The first field of ``paths`` (in order) the clerk still has to fill: enabled, shown, empty
    and not one Enter passes by. Where the focus lands when a step opens."""
    for path in paths:
        w = fields[path].widget
        if (isinstance(w, (QLineEdit, QComboBox)) and w.isEnabled() and not w.isHidden()
                and fields[path].container.isEnabled() and is_empty(w) and not w.property(ENTER_SKIPS)):
            return w
    return None


def next_input(page: QWidget, widget: QWidget, *, empty_only: bool = False) -> QWidget | None:
    """The next text field or combo box of ``page`` in focus order after ``widget``, or None at the
    page's last field. ``empty_only``: the next one still to fill (Enter skips what the card, the
    platform or a default already filled, and the optional fields marked ``ENTER_SKIPS``; Tab still
    visits every field)."""
    w = widget.nextInFocusChain()
    for _ in range(2000):
        if w is None or w is widget or not page.isAncestorOf(w):
            return None   # left the page: the clerk is at its last field
        if (isinstance(w, (QLineEdit, QComboBox)) and w.isVisible() and w.isEnabled()
                and w.focusPolicy() & Qt.FocusPolicy.TabFocus and not isinstance(w.parentWidget(), QComboBox)
                and not (empty_only and (not is_empty(w) or w.property(ENTER_SKIPS)))):
            return w
        w = w.nextInFocusChain()
    return None


def scroll_into_view(page: QWidget, widget: QWidget) -> None:
    """Enter or Tab moved the focus to ``widget``: the scroll area of ``page`` holding it shows it."""
    parent = widget.parentWidget()
    while parent is not None and parent is not page:
        if isinstance(parent, QScrollArea):
            parent.ensureWidgetVisible(widget, 16, 24)
            return
        parent = parent.parentWidget()


@dataclass
class Field:
    path: str
    label: str
    kind: str                      # line / combo / tri / check
    widget: QWidget
    message: QLabel
    container: QWidget
    touched: bool = False
    extra: dict = field(default_factory=dict)

    def value(self) -> Any:
        w = self.widget
        if self.kind == "line":
            return w.text().strip()
        if self.kind == "combo":
            return w.currentText().strip()
        if self.kind == "tri":
            return w.currentData()
        if self.kind == "check":
            return w.isChecked()
        raise ValueError(self.kind)

    def set_value(self, value: Any) -> None:
        w = self.widget
        w.blockSignals(True)
        try:
            if self.kind == "line":
                if w.text() != (value or ""):
                    w.setText(value or "")
            elif self.kind == "combo":
                if value:
                    w.setCurrentText(value)
                else:
                    w.setCurrentIndex(-1)   # a non-editable combo ignores setCurrentText("")
            elif self.kind == "tri":
                for i in range(w.count()):
                    if w.itemData(i) is value:
                        w.setCurrentIndex(i)
                        break
            elif self.kind == "check":
                w.setChecked(bool(value))
        finally:
            w.blockSignals(False)

    def show(self, problem: Problem | None) -> None:
        if problem is None:
            self.message.setText("")
            self.message.setVisible(False)
            set_invalid(self.widget, False)
            return
        self.message.setText(problem.message)
        set_role(self.message, "error" if problem.blocking else "warning")
        self.message.setVisible(True)
        set_invalid(self.widget, problem.blocking)

    def set_enabled(self, enabled: bool) -> None:
        self.container.setEnabled(enabled)


def complete_entry(kind: str, text: str) -> bool:
    """``text`` is a whole entry of a fixed format (``kind``): nothing more can follow it.

    "mobile": 11 digits starting 1 (a landline with its area code has no fixed length);
    "id": 18 characters with the right check digit; "date": a real YYYY-MM-DD; "month": YYYY-MM."""
    text = text.strip()
    if kind == "mobile":
        return bool(re.fullmatch(r"1[3-9][0-9]{9}", text))
    if kind == "id":
        return len(text) == 18 and check_id_number(text).ok
    try:
        if kind == "date" and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            return bool(_dt.date.fromisoformat(text))
        if kind == "month" and re.fullmatch(r"[0-9]{4}-[0-9]{2}", text):
            return bool(_dt.date.fromisoformat(text + "-01"))
    except ValueError:
        return False
    return False


class FieldSet(QObject):
    """A group of bound fields. ``edited(path)`` fires on every user edit; ``completed(widget)``
    when typing has just made a fixed-format field whole (``complete_entry``)."""

    edited = Signal(str)
    completed = Signal(QWidget)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.fields: dict[str, Field] = {}
        self.order: list[str] = []

    def _make(self, path: str, label: str, kind: str, widget: QWidget, hint: str = "") -> Field:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 2)
        lay.setSpacing(2)
        lab = QLabel(label)
        lab.setBuddy(widget)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        if kind != "check":
            lay.addWidget(lab)
        row.addWidget(widget, 1)
        lay.addLayout(row)
        if hint:
            h = QLabel(hint)
            set_role(h, "hint")
            h.setWordWrap(True)
            lay.addWidget(h)
        msg = QLabel("")
        msg.setWordWrap(True)
        set_role(msg, "error")
        msg.setVisible(False)
        lay.addWidget(msg)
        widget.setAccessibleName(label)
        f = Field(path, label, kind, widget, msg, box, extra={"label_widget": lab})
        self.fields[path] = f
        self.order.append(path)
        return f

    def line(self, path: str, label: str, *, placeholder: str = "", hint: str = "", max_length: int = 200,
             validator: Any = None, complete: str = "") -> Field:
        """A text field; ``complete`` names its fixed format (``complete_entry``) when it has one."""
        w = QLineEdit()
        w.setPlaceholderText(placeholder)
        w.setMaxLength(max_length)
        if validator is not None:
            w.setValidator(validator)
        f = self._make(path, label, "line", w, hint)
        w.textEdited.connect(lambda _t, p=path: self._on_edit(p))
        if complete:
            w.textEdited.connect(lambda text, w=w, kind=complete: self._check_complete(w, kind, text))
        return f

    def _check_complete(self, widget: QLineEdit, kind: str, text: str) -> None:
        # only as the last character is typed at the end: not while correcting a digit in the middle,
        # not on a paste that merely replaced one whole number by another one
        grew = len(text) > widget.property("lastLength") if widget.property("lastLength") is not None else True
        widget.setProperty("lastLength", len(text))
        if grew and widget.cursorPosition() == len(text) and complete_entry(kind, text):
            self.completed.emit(widget)

    def combo(self, path: str, label: str, options: Iterable[str], *, editable: bool = True, hint: str = "") -> Field:
        w = FocusCombo()
        w.setEditable(editable)
        w.addItems(list(options))
        w.setCurrentIndex(-1)
        if editable:
            w.lineEdit().setPlaceholderText("选择或输入")
            w.lineEdit().textEdited.connect(lambda _t, p=path: self._on_edit(p))
        else:
            w.number_choices()
            w.chosen_by_key.connect(lambda w=w: self.completed.emit(w))
        w.activated.connect(lambda _i, p=path: self._on_edit(p))
        return self._make(path, label, "combo", w, hint)

    def tri(self, path: str, label: str, *, hint: str = "") -> Field:
        w = FocusCombo()
        for text, value in TRI_STATE:
            w.addItem(text, value)
        w.number_choices()
        w.chosen_by_key.connect(lambda w=w: self.completed.emit(w))
        f = self._make(path, label, "tri", w, hint)
        w.activated.connect(lambda _i, p=path: self._on_edit(p))
        return f

    def check(self, path: str, label: str, *, hint: str = "") -> Field:
        w = QCheckBox(label)
        f = self._make(path, label, "check", w, hint)
        w.toggled.connect(lambda _c, p=path: self._on_edit(p))
        return f

    def _on_edit(self, path: str) -> None:
        self.fields[path].touched = True
        self.edited.emit(path)

    # ------------------------------------------------------------------ data
    def load(self, app: Application) -> None:
        for path, f in self.fields.items():
            f.set_value(get_path(app, path))

    def store(self, app: Application) -> None:
        for path, f in self.fields.items():
            if f.container.isEnabled() or f.kind == "check":
                set_path(app, path, f.value())

    def show_problems(self, problems: list[Problem], *, all_fields: bool = False) -> None:
        """Errors under their fields: only fields the clerk touched, unless ``all_fields``."""
        by_field: dict[str, Problem] = {}
        for p in problems:
            if p.field in self.fields and (p.field not in by_field or p.blocking and not by_field[p.field].blocking):
                by_field[p.field] = p
        for path, f in self.fields.items():
            p = by_field.get(path)
            if p is not None and (all_fields or f.touched) and f.container.isEnabled():
                f.show(p)
            else:
                f.show(None)

    def touch_all(self) -> None:
        for f in self.fields.values():
            f.touched = True

    def first_with_problem(self, problems: list[Problem]) -> Field | None:
        wanted = {p.field for p in problems if p.blocking}
        for path in self.order:
            f = self.fields[path]
            if path in wanted and f.container.isEnabled():
                return f
        return None

    def set_enabled(self, paths: Iterable[str], enabled: bool) -> None:
        for p in paths:
            if p in self.fields:
                self.fields[p].set_enabled(enabled)


def problems_for(problems: list[Problem], prefixes: Iterable[str]) -> list[Problem]:
    prefixes = tuple(prefixes)
    return [p for p in problems if p.field.startswith(prefixes)]


def messages(problems: list[Problem]) -> list[str]:
    seen: list[str] = []
    for p in problems:
        if p.blocking and p.message not in seen:
            seen.append(p.message)
    return seen

