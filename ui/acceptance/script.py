"""A scripted acceptance: the real widgets driven with Qt key and mouse events and demo data.

Used by the tests (``tests/ui``), ``counter-app ui screenshots`` (:mod:`ui.acceptance.screenshots`)
and ``bench/bench_acceptance.py``, so all three exercise exactly what a clerk does: F9 to move on,
typing into fields, Space on check boxes, the card laid on the simulated reader, the applicant
signing with pointer strokes on their screen and tapping a rating.

Waiting is done by running the Qt event loop until a condition holds (``wait_until``), never by
sleeping: the GUI keeps processing events, workers report back through their signals.

Thread contract: GUI thread only.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from PySide6.QtCore import QElapsedTimer, QEventLoop, QPoint, Qt, QTimer
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox, QLineEdit, QWidget

from counter_app.application import Application
from counter_app.scheme import RetirementType
# what the script types and draws (kept here too: the tests and the bench import them from here)
from ui.acceptance.demo_input import Choices, demo_application, draw_on, form_values, signature_strokes  # noqa: F401


class ScriptError(AssertionError):
    """The scripted acceptance did not reach the state it waited for (the message says which)."""


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "条件") -> None:
    """Run the event loop until ``predicate()`` is true; ScriptError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(loop.quit)
    timer.start()
    try:
        while not predicate():
            if time.monotonic() > deadline:
                raise ScriptError(f"等待超时（{timeout:.0f} 秒）：{what}")
            loop.exec()
    finally:
        timer.stop()


def type_into(editor: QWidget, text: str) -> None:
    """Type ``text`` as a clerk does: ASCII as key presses, Chinese as the input method delivers it
    (a committed ``QInputMethodEvent`` per run of characters)."""
    run = ""

    def commit() -> None:
        nonlocal run
        if run:
            ev = QInputMethodEvent("", [])
            ev.setCommitString(run)
            QApplication.sendEvent(editor, ev)
            run = ""

    for ch in text:
        if ch.isascii() and ch.isprintable():
            commit()
            QTest.keyClicks(editor, ch)
        else:
            run += ch
    commit()


def spin() -> None:
    """Let pending events (and timers that are due) run once."""
    QApplication.processEvents()


@dataclass
class Heartbeat:
    """Measures the longest gap between ticks of a fast QTimer: how long the GUI thread was
    unavailable to the event loop (a handler that blocks shows as a long gap)."""

    interval_ms: int = 5
    gaps: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(self.interval_ms)
        self._timer.timeout.connect(self._tick)
        self._clock = QElapsedTimer()
        self._last = 0
        self._max = 0
        self._label = ""

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed()
        if self._last:
            self._max = max(self._max, now - self._last)
        self._last = now

    def start(self, label: str) -> None:
        self._label = label
        self._max = 0
        self._clock.start()
        self._last = 0
        self._timer.start()

    def stop(self) -> float:
        self._timer.stop()
        # the time since the last tick counts too (a handler running right at the end)
        if self._last:
            self._max = max(self._max, self._clock.nsecsElapsed() - self._last)
        gap = self._max / 1e6
        self.gaps[self._label] = max(gap, self.gaps.get(self._label, 0.0))
        return gap

    @property
    def worst(self) -> tuple[str, float]:
        if not self.gaps:
            return "", 0.0
        label = max(self.gaps, key=self.gaps.get)
        return label, self.gaps[label]


class AcceptanceScript:
    """Drives one :class:`ui.acceptance.AcceptanceWidget` through its steps (see module docstring).

    ``before_step(label)`` / ``after_step(label)`` are called around each step's driving (the
    heartbeat test and the screenshots hook in there); ``on_moment(name)`` at moments worth a
    picture of the applicant's screen ("signing": strokes drawn, "rating": a level chosen)."""

    STEP_KEYS = ("identity", "items", "form", "materials", "photo", "review", "print", "submit", "rating")

    def __init__(self, widget: Any, *, timeout: float = 30.0,
                 before_step: Callable[[str], None] | None = None,
                 after_step: Callable[[str], None] | None = None,
                 on_moment: Callable[[str], None] | None = None,
                 on_filled: Callable[[str], None] | None = None):
        self.w = widget
        self.timeout = timeout
        self.before_step = before_step or (lambda label: None)
        self.after_step = after_step or (lambda label: None)
        self.on_moment = on_moment or (lambda name: None)
        # called with a step's key when it is filled in, right before the clerk's action that
        # moves it on by itself (the screenshots picture the step there)
        self.filled = on_filled or (lambda label: None)
        # The clerk's navigation actions, counted from the key and mouse events that reach the
        # widget (ui.acceptance.action_count): what the targets count. Characters of data
        # and the applicant's own touches are not.
        from ui.acceptance.action_count import ActionCounter

        self.counter = ActionCounter(widget, label=lambda: widget.current.key)

    @property
    def actions(self) -> int:
        return self.counter.total

    def dialog_actions(self, n: int, what: str) -> None:
        """Actions in the system's file dialog, which the script bypasses (it hands the file over
        directly): counted as the clerk would spend them there."""
        for _ in range(n):
            self.counter.log.append((self.w.current.key, what))

    # ------------------------------------------------------------------ basics
    @property
    def session(self):
        return self.w.session

    def wait(self, predicate: Callable[[], bool], what: str, timeout: float | None = None) -> None:
        wait_until(predicate, timeout or self.timeout, what)

    def idle(self) -> None:
        """Wait until no step job and no draft save is running."""
        self.wait(lambda: not self.w.busy and not self.w._saving and not self.w.ctx.tasks.busy, "后台任务完成")

    def key(self, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
            target: QWidget | None = None) -> None:
        target = target or QApplication.focusWidget() or self.w
        if not self.w.isAncestorOf(target) and target is not self.w:
            target = self.w
        QTest.keyClick(target, key, modifier)
        spin()

    def ready(self) -> None:
        """Wait for the widget's start-up loading (render process, tables) and the devices."""
        self.wait(lambda: self.w.warmed and not self.w._loading, "受理界面准备就绪", timeout=max(self.timeout, 60))
        hub = self.w.ctx.devices
        if hub is not None and hub.demo:
            self.wait(hub.devices.camera_ready, "演示摄像头画面就绪")

    def key_next(self) -> None:
        """Press F9 (next step / finish) without waiting for anything."""
        self.key(Qt.Key.Key_F9)

    def next_step(self, expect: str) -> None:
        """F9, then wait until step ``expect`` is shown (ScriptError with the message line if not)."""
        self.wait(lambda: not self.w.busy, "当前步骤的后台任务完成")   # as a clerk waits for "请稍候"
        spin()                            # a step that finished moves on at the next loop turn
        self.wait(lambda: not self.w.busy, "当前步骤的后台任务完成")
        index = self.STEP_KEYS.index(expect)
        if expect == "rating" and self.w.current.key == "submit" and self.session.receipt_pdf is not None:
            # submitted, receipt made: the stepper goes on to the rating by itself, as the clerk sees
            self.wait(lambda: self.w.index == index, "提交后自动进入服务评价")
        before = self.w.index
        if before == index:
            return      # the step moved on by itself (the signed scan is in: on to 提交)
        self.key(Qt.Key.Key_F9)
        try:
            self.wait(lambda: self.w.index == index and not self.w.busy, f"进入“{expect}”步骤")
        except ScriptError:
            raise ScriptError(f"未能从第{before + 1}步进入下一步：{self.w.last_message[0]}") from None

    def focus(self, widget: QWidget) -> None:
        """Move to ``widget`` as a clerk does, unless the focus is already there: Enter when it is
        the next field still to fill, Tab when it is the next one in order, else a click on it."""
        if widget.hasFocus():
            return
        if not self._reach_by_key(widget):
            self._click_at(widget)
            spin()
        if not widget.hasFocus():
            widget.setFocus(Qt.FocusReason.MouseFocusReason)   # e.g. a window without activation offscreen

    def _reach_by_key(self, widget: QWidget) -> bool:
        """Enter when ``widget`` is the next field still to fill, Tab when it is the next one in
        the focus order; False when neither reaches it (then the clerk clicks)."""
        from ui.acceptance.fields import next_input

        current = QApplication.focusWidget()
        if current is None or widget.hasFocus() or not self.w.current.isAncestorOf(current):
            return widget.hasFocus()
        field = current.parentWidget() if isinstance(current.parentWidget(), QComboBox) else current
        if isinstance(field, (QLineEdit, QComboBox)) and next_input(self.w.current, field, empty_only=True) is widget:
            QTest.keyClick(current, Qt.Key.Key_Return)
        elif current.nextInFocusChain() is widget:
            QTest.keyClick(current, Qt.Key.Key_Tab)
        else:
            return False
        spin()
        return widget.hasFocus()

    def _click_at(self, widget: QWidget) -> None:
        from PySide6.QtWidgets import QCheckBox, QRadioButton

        if isinstance(widget, (QCheckBox, QRadioButton)):
            pos = QPoint(min(8, widget.width() - 1), widget.height() // 2)   # on the box itself
        elif isinstance(widget, (QAbstractButton, QLineEdit)):
            pos = QPoint(widget.width() // 2, widget.height() // 2)
        else:
            pos = QPoint(min(8, widget.width() - 1), widget.height() // 2)
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)

    def type_text(self, widget: QWidget, text: str) -> None:
        """Replace the field's text by typing: reach it (Enter, Tab or a click), select what is in
        it if anything (Ctrl+A, unless reaching it selected it already), then the characters."""
        self.focus(widget)
        editor = widget.lineEdit() if isinstance(widget, QComboBox) and widget.isEditable() else widget
        if isinstance(editor, QLineEdit):
            if editor.text() and editor.selectedText() != editor.text():
                QTest.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
            type_into(editor, text)
        spin()

    def choose_combo(self, combo: QComboBox, text: str) -> None:
        """A non-editable combo: the digit of ``text`` when it has the focus (the focus then moves on
        by itself); otherwise a click opens its list and a click picks the entry."""
        target = combo.findText(text)
        if target < 0:
            raise ScriptError(f"下拉框中没有“{text}”")
        if combo.currentIndex() == target:
            return
        self._reach_by_key(combo)
        choices = combo.choices() if hasattr(combo, "choices") else []
        if combo.hasFocus() and target in choices[:9]:
            QTest.keyClick(combo, Qt.Key(int(Qt.Key.Key_1) + choices.index(target)))
            spin()
            return
        if not combo.hasFocus():
            self._click_at(combo)
            view = combo.view()
            self.wait(lambda: view.isVisible(), "下拉列表展开")
            rect = view.visualRect(combo.model().index(target, combo.modelColumn()))
            QTest.mouseMove(view.viewport(), rect.center())   # the pointer travels to the entry
            spin()
            QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                             rect.center())
            spin()
            self.wait(lambda: not view.isVisible(), "下拉列表收起")
        for _ in range(combo.count() + 1):
            if combo.currentIndex() == target:
                break
            QTest.keyClick(combo, Qt.Key.Key_Down if combo.currentIndex() < target else Qt.Key.Key_Up)
        spin()

    def click(self, button: QAbstractButton) -> None:
        """A mouse click (counted when it is on the clerk's widget, not the applicant's screen)."""
        QTest.mouseClick(button, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         QPoint(button.width() // 2, button.height() // 2))
        spin()

    def space(self, button: QAbstractButton) -> None:
        """Toggle a check box or radio button: Space when it has the focus, else a click on it."""
        if button.hasFocus():
            QTest.keyClick(button, Qt.Key.Key_Space)
        else:
            self._click_at(button)
        spin()

    # ------------------------------------------------------------------ steps
    def identity_from_card(self, card: Any = "resident_xinxiang") -> None:
        """Lay ``card`` on the reader: a built-in sample card by name, or the card's data."""
        self.before_step("identity")
        hub = self.w.ctx.devices
        if hub is None:
            raise ScriptError("没有读卡器（ctx.devices）")
        hub.remove_demo_card()
        if isinstance(card, str):
            hub.place_demo_card(card)
        else:
            hub.place_card_data(card)
        self.wait(lambda: bool(self.session.app.applicant.name) and self.session.card is not None, "读取身份证")
        self.idle()
        self.after_step("identity")

    def identity_manual(self, name: str, id_number: str, ethnicity: str = "汉") -> None:
        """A walk-in with only the 军人公民身份号码登记表: typed in, original ticked with F6."""
        self.before_step("identity")
        step = self.w.step("identity")
        from counter_app.scheme import IdDocument

        self.space(step.doc_buttons[IdDocument.MILITARY_REGISTRATION])
        fields = step.fs.fields
        self.type_text(fields["applicant.id_number"].widget, id_number)   # complete: moves on by itself
        self.type_text(fields["applicant.name"].widget, name)
        self.type_text(fields["applicant.ethnicity"].widget, ethnicity)
        self.key(Qt.Key.Key_F6)       # 证件原件已核验
        self.idle()
        self.after_step("identity")

    def choose(self, choices: Choices) -> None:
        self.before_step("items")
        step = self.w.step("items")
        self.idle()                       # the veteran's file may name the type (platform reachable)
        rtype = step.rtype.buttons[list(RetirementType).index(choices.retirement)]
        if not rtype.isChecked():         # an online application brings it already chosen
            self.space(rtype)
        for n, cb in step.item_checks.items():
            if (n in choices.items) != cb.isChecked() and cb.isEnabled():
                self.space(cb)
        groups = ((step.intention, choices.intention), (step.household, choices.household),
                  (step.family_mode, choices.family_mode), (step.pension, choices.pension),
                  (step.medical, choices.medical))
        for group, value in groups:
            if value is not None and group.isEnabled() and group.value() != value:
                self.space(group.buttons[group.options.index(value)])
        if step.restore_elsewhere.isEnabled() and step.restore_elsewhere.isChecked() != choices.restore_elsewhere:
            self.space(step.restore_elsewhere)
        self.after_step("items")

    def fill_form(self, values: dict[str, str], *, henan: bool = True, cancelled: bool = True) -> None:
        """Fill step 3 top to bottom, as the focus order runs: the values given, 婚姻状况 (未婚) and
        the two 数据共享 answers when nothing filled them (the platform, offline: by hand). What the
        veteran's file filled in is what the applicant confirms: it is left as it is."""
        self.before_step("form")
        step = self.w.step("form")
        self.idle()
        fields = step.fs.fields
        wanted = dict(values)
        if fields["applicant.marital_status"].widget.currentIndex() < 0:
            wanted.setdefault("applicant.marital_status", "未婚")
        for path, yes in (("data_sharing.henan_hukou_before_enlistment", henan),
                          ("data_sharing.hukou_cancelled", cancelled)):
            if fields[path].widget.currentData() is None:
                wanted.setdefault(path, "是" if yes else "否")
        for path in step.fs.order:
            if path not in wanted or not fields[path].container.isEnabled() or path in step.from_file:
                continue
            f = fields[path]
            if f.value() == wanted[path] or (f.kind == "tri" and f.widget.currentText() == wanted[path]):
                continue                  # already right (from the card, the platform, a default)
            if f.kind in ("combo", "tri") and not f.widget.isEditable():
                self.choose_combo(f.widget, wanted[path])
            else:
                self.type_text(f.widget, wanted[path])
        self.after_step("form")

    def tick_materials(self, skip: Iterable[int] = (), scan: str | None = None) -> None:
        """Import ``scan`` as material 3, then confirm every required original: F5 (all at once,
        which moves on to the photo), or Space on each except ``skip``."""
        self.before_step("materials")
        step = self.w.step("materials")
        skip = set(skip)
        if scan:
            self.import_material(3, scan)
        if not skip:
            self.filled("materials")
            self.key(Qt.Key.Key_F5)       # 以上原件均已核验，下一步
        else:
            for n, row in step.rows.items():
                if n in (1, 12) or n in skip or row.seen.isChecked():
                    continue
                self.space(row.seen)
            self.filled("materials")
        self.after_step("materials")

    def import_material(self, number: int, path: str) -> None:
        step = self.w.step("materials")
        before = len(self.session.app.material(number).attachments)
        self.dialog_actions(2, "F6 导入 + 在文件对话框中选定文件")
        step.import_files(number, [path])
        self.wait(lambda: len(self.session.app.material(number).attachments) > before, f"导入材料{number}")
        self.idle()

    def take_photo(self) -> None:
        self.before_step("photo")
        if self.session.photo_required:
            self.wait(lambda: bool(self.session.app.photo), "自动拍照并通过照片检查", timeout=max(self.timeout, 40))
            self.confirm_photo_by_eye()
        self.after_step("photo")

    def confirm_photo_by_eye(self) -> None:
        """The clerk looks at the photo and ticks each rule the program hands over."""
        step = self.w.step("photo")
        self.wait(lambda: step.confirm_button is not None and step.confirm_button.isVisible(), "照片的人工确认项")
        if step.open_clerk_checks():
            self.filled("photo")
            button = step.confirm_button
            if button.hasFocus():
                QTest.keyClick(button, Qt.Key.Key_Return)
            else:
                self.click(button)
        self.wait(lambda: not step.open_clerk_checks(), "勾选照片的人工确认项")

    def import_photo(self, path: str) -> None:
        self.before_step("photo")
        self.dialog_actions(2, "导入按钮 + 在文件对话框中选定文件")
        self.w.step("photo").import_file(path)
        self.wait(lambda: bool(self.session.app.photo), "导入照片并通过照片检查")
        self.confirm_photo_by_eye()
        self.after_step("photo")

    def sign(self, strokes=None, *, expect_ok: bool = True) -> None:
        self.before_step("review")
        screen = self.w.ctx.applicant_screen
        self.wait(lambda: screen is not None and screen._signing and bool(screen.form_pages), "申请人屏幕显示申请表")
        draw_on(screen.pad, strokes if strokes is not None else signature_strokes())
        spin()
        self.on_moment("signing")
        self.filled("review")
        self.click(screen.confirm_button)
        if expect_ok:
            self.wait(lambda: self.session.form_pdf is not None and bool(self.session.app.signature),
                      "签名确认并生成签名后的申请表")
            self.idle()
        self.after_step("review")

    def scan_signed_form(self, path: str | None = None) -> None:
        self.before_step("print")
        step = self.w.step("print")
        self.wait(lambda: not step.busy, "生成文书")        # the list complete, as the clerk sees it
        if self.session.app.has_item(4):      # the simulated scan covers the stamped 落户介绍信 too
            self.wait(lambda: "settlement_letter" in step.documents, "生成落户介绍信")
        self.filled("print")
        self.key(Qt.Key.Key_F5)               # 打印全部文书: the form to sign on paper, the letters
        self.idle()
        if path is None:
            self.key(Qt.Key.Key_F7)   # demo: simulated scan
        else:
            step.import_scan(path)
        self.wait(lambda: self.session.signed_scan is not None, "导入签字扫描件")
        if self.session.app.has_item(4) and path is None:
            self.wait(lambda: bool(self.session.app.settlement_letter_scan), "导入盖章的落户介绍信扫描件")
        self.idle()
        self.after_step("print")

    def submit(self) -> None:
        """F9: finalize; once the receipt is made the stepper moves on to the rating by itself."""
        self.before_step("submit")
        self.filled("submit")
        self.key(Qt.Key.Key_F9)
        try:
            self.wait(lambda: self.session.finalized, "提交定稿")
        except ScriptError:
            raise ScriptError(f"提交未完成：{self.w.last_message[0]}") from None
        self.wait(lambda: self.session.receipt_pdf is not None, "生成受理回执")
        self.idle()
        self.after_step("submit")

    def rate(self, level: str = "非常满意", reasons: Iterable[str] = ()) -> None:
        self.before_step("rating")
        screen = self.w.ctx.applicant_screen
        self.wait(lambda: screen.stack.currentIndex() == screen.PAGE_RATING, "申请人屏幕显示评价")
        if "receipt" not in self.session.printed:
            self.key(Qt.Key.Key_F7)           # the clerk prints the receipt while the applicant rates
        self.click(screen.rating_buttons[level])
        for r in reasons:
            self.click(screen.reason_buttons[r])
        self.on_moment("rating")
        self.click(screen.submit_rating_button)
        self.wait(lambda: self.session.rating_done, "评价保存")
        self.after_step("rating")

    # ------------------------------------------------------------------ the whole acceptance
    def walk_to(self, stop: str, *, choices: Choices | None = None, app: Application | None = None,
                material_scan: str | None = None, card: Any = "resident_xinxiang") -> None:
        """Drive from the step shown now up to step ``stop`` (shown, nothing done there yet; "" = to
        the end): card → items → form → materials → photo → sign → print/scan → submit → rating."""
        choices = choices or Choices()
        app = app or demo_application()
        done_by = {"identity": lambda: self.identity_from_card(card), "items": lambda: self.choose(choices),
                   "form": lambda: self.fill_form(form_values(app, choices)),
                   "materials": lambda: self.tick_materials(scan=material_scan), "photo": self.take_photo,
                   "review": self.sign, "print": self.scan_signed_form, "submit": self.submit, "rating": self.rate}
        self.ready()
        start = self.STEP_KEYS.index(self.w.current.key)
        for key, following in list(zip(self.STEP_KEYS, (*self.STEP_KEYS[1:], "")))[start:]:
            if key == stop:
                return
            done_by[key]()
            if following:
                self.next_step(following)

    def run_full(self, *, choices: Choices | None = None, app: Application | None = None,
                 material_scan: str | None = None, finish: bool = True, card: Any = "resident_xinxiang") -> str:
        """The whole acceptance (``walk_to`` its end); F9 ends it unless the rating did."""
        self.walk_to("", choices=choices, app=app, material_scan=material_scan, card=card)
        if finish and not self.w.ended:   # the applicant's rating ends the acceptance by itself
            self.key(Qt.Key.Key_F9)
        return self.session.case_id
