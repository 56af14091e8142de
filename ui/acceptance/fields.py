"""Form fields bound to the application by dotted path ("applicant.phone"), each with its own
inline message line, so ``rules.validate`` problems (which name the same paths) land under the
field they concern.

Thread contract: GUI thread only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget,
)

from counter_app.application import Application
from counter_app.problems import Problem
from ui.acceptance.style import set_invalid, set_role

TRI_STATE = (("未核验", None), ("是", True), ("否", False))


class FocusCombo(QComboBox):
    """A combo box the mouse wheel changes only while it has the keyboard focus.

    Qt's default (``WheelFocus``) lets a wheel turned over a form, to scroll it, change whatever
    combo box passes under the pointer, silently: a platform-verified 是 became 否 that way. Here the
    wheel over an unfocused combo box scrolls the page instead.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not self.hasFocus():
            event.ignore()   # to the scroll area behind it
            return
        super().wheelEvent(event)


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


def get_path(app: Application, path: str) -> Any:
    obj: Any = app
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def set_path(app: Application, path: str, value: Any) -> None:
    parts = path.split(".")
    obj: Any = app
    for part in parts[:-1]:
        obj = getattr(obj, part)
    setattr(obj, parts[-1], value)


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


class FieldSet(QObject):
    """A group of bound fields. ``edited(path)`` fires on every user edit."""

    edited = Signal(str)

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
             validator: Any = None) -> Field:
        w = QLineEdit()
        w.setPlaceholderText(placeholder)
        w.setMaxLength(max_length)
        if validator is not None:
            w.setValidator(validator)
        f = self._make(path, label, "line", w, hint)
        w.textEdited.connect(lambda _t, p=path: self._on_edit(p))
        return f

    def combo(self, path: str, label: str, options: Iterable[str], *, editable: bool = True, hint: str = "") -> Field:
        w = FocusCombo()
        w.setEditable(editable)
        w.addItems(list(options))
        w.setCurrentIndex(-1)
        if editable:
            w.lineEdit().setPlaceholderText("选择或输入")
            w.lineEdit().textEdited.connect(lambda _t, p=path: self._on_edit(p))
        w.activated.connect(lambda _i, p=path: self._on_edit(p))
        return self._make(path, label, "combo", w, hint)

    def tri(self, path: str, label: str, *, hint: str = "") -> Field:
        w = FocusCombo()
        for text, value in TRI_STATE:
            w.addItem(text, value)
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

