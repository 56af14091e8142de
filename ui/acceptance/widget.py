"""The acceptance stepper: nine steps from the ID card to the applicant's rating.

``AcceptanceWidget(ctx, *, case_id=None, worklist_id=None)`` accepts a walk-in (no arguments), an
online application from the worklist (``worklist_id`` = the platform's id) or continues a saved
draft (``case_id``). It emits ``finished(case_id)`` when the clerk ends a submitted acceptance and
``cancelled()`` when the clerk abandons one (a draft, once created, stays in the worklist).

Keyboard (every action has one; shown on the buttons):

* Enter — the next field still empty (fields already filled from the card, the platform or a default
  are skipped; Tab visits them); when nothing after it is left to fill, or anywhere outside a text
  field, the next step (what still blocks it is listed and focused instead). A complete phone
  number, ID number or date moves on by itself (``keys``);
* F9 or Ctrl+Enter — next step; F8 or Alt+← — previous step; Ctrl+1…9 — a step already visited;
* F5 / F6 / F7 — the current step's own actions (listed at the bottom); Esc — cancel.

Drafts are saved to the store whenever the clerk moves between steps, and every 20 s while
something changed, on ``ctx.tasks.db``; a failed save is reported and nothing typed is lost (it is
still on screen and in the session). Nothing here blocks the GUI thread.

Thread contract: GUI thread only.
"""
from __future__ import annotations

import logging
import shiboken6

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QApplication, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMessageBox, QPushButton,
    QStackedWidget, QVBoxLayout, QWidget,
)

from counter_app.cases import Actor
from ui.acceptance.fields import scroll_into_view
from ui.acceptance.form_step import FormStep
from ui.acceptance.identity_step import IdentityStep
from ui.acceptance.items_step import ItemsStep
from ui.acceptance.keys import EntryAdvance, stepper_key
from ui.acceptance.memory import release_memory, tune_allocator, warm_up
from ui.acceptance.materials_step import MaterialsStep
from ui.acceptance.photo_step import PhotoStep
from ui.acceptance.print_step import PrintStep
from ui.acceptance.rating_step import RatingStep
from ui.acceptance.review_step import ReviewStep
from ui.acceptance.session import (
    AcceptanceSession, create_or_save_draft, load_case, load_worklist_application,
)
from ui.acceptance.step import Step, user_message
from ui.acceptance.style import ensure_ui_fonts, set_role
from ui.acceptance.submit_step import SubmitStep
from ui.background import submit
from ui.context import AppContext


log = logging.getLogger(__name__)

STEP_CLASSES: tuple[type[Step], ...] = (IdentityStep, ItemsStep, FormStep, MaterialsStep, PhotoStep, ReviewStep,
                                        PrintStep, SubmitStep, RatingStep)
SUBMIT_INDEX = 7
AUTOSAVE_MS = 20_000
MAX_BLOCKERS_SHOWN = 4
NEXT_LABEL = "下一步 (F9 / Enter)"   # true: Enter with nothing left to fill moves on (keyPressEvent)


class AcceptanceWidget(QWidget):
    finished = Signal(str)
    cancelled = Signal()
    step_changed = Signal(int)        # index of the step now shown
    message_shown = Signal(str, str)  # text, level — the message line, for the status bar and tests
    draft_saved = Signal(str)         # case id, after every successful draft save
    warmed_up = Signal()              # the render process and the slow tables are loaded

    def __init__(self, ctx: AppContext, *, case_id: str | None = None, worklist_id: str | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        ensure_ui_fonts()
        tune_allocator()
        self.setObjectName("acceptance")
        self.ctx = ctx
        self.session = AcceptanceSession(worklist_id=worklist_id)
        self.index = 0
        self.furthest = 0
        self._moving = False
        self._dirty = False
        self._saving = 0
        self._loading = case_id is not None or worklist_id is not None
        self._blocked_reason: str | None = None
        self.ended = False                # finished() emitted
        self.last_message = ("", "")

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        header = QHBoxLayout()
        header.setContentsMargins(16, 8, 16, 4)
        self.heading = QLabel("新受理（现场申请）")
        set_role(self.heading, "title")
        header.addWidget(self.heading, 1)
        self.saved_label = QLabel("")
        set_role(self.saved_label, "hint")
        header.addWidget(self.saved_label)
        outer.addLayout(header)
        self.banner = QLabel("")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.banner.setContentsMargins(16, 0, 16, 0)
        banner_row = QHBoxLayout()
        banner_row.setContentsMargins(16, 0, 16, 4)
        banner_row.addWidget(self.banner)
        outer.addLayout(banner_row)

        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        self.step_list = QListWidget()
        self.step_list.setObjectName("stepList")
        self.step_list.setFixedWidth(176)
        self.step_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        body.addWidget(self.step_list)
        self.stack = QStackedWidget()
        body.addWidget(self.stack, 1)
        outer.addLayout(body, 1)

        footer = QHBoxLayout()
        footer.setContentsMargins(16, 6, 16, 8)
        self.cancel_button = QPushButton("取消受理 (Esc)")
        self.action_bar = QHBoxLayout()
        self.back_button = QPushButton("上一步 (F8)")
        self.next_button = QPushButton(NEXT_LABEL)
        set_role(self.next_button, "primary")
        for b in (self.cancel_button, self.back_button, self.next_button):
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        footer.addWidget(self.cancel_button)
        footer.addSpacing(12)
        footer.addLayout(self.action_bar, 1)
        footer.addWidget(self.back_button)
        footer.addWidget(self.next_button)
        outer.addLayout(footer)

        self.steps: list[Step] = []
        self.entry = EntryAdvance(self)
        self._move_waiting: int | None = None   # the step index whose own move waits for a job
        for i, cls in enumerate(STEP_CLASSES):
            step = cls(ctx, self.session)
            self.steps.append(step)
            self.stack.addWidget(step)
            item = QListWidgetItem(f"{i + 1}　{step.title}")
            self.step_list.addItem(item)
            step.notify.connect(self.show_message)
            step.changed.connect(self._mark_dirty)
            # only the step on screen moves the stepper on (a late answer of a step left behind does not)
            step.request_next.connect(lambda s=step: self._step_moves_on(s))
            step.busy_changed.connect(self._step_busy_changed)
            self.entry.watch(step)
        self.submit_step.finalized.connect(self._finalized)
        self.step_list.currentRowChanged.connect(self._list_clicked)
        self.cancel_button.clicked.connect(self.cancel)
        self.back_button.clicked.connect(self.go_back)
        self.next_button.clicked.connect(self.go_next)

        # The keys are handled in keyPressEvent, and claimed in the ShortcutOverride phase while the
        # focus is inside this widget: the shell's window-wide actions use some of the same function
        # keys (F5 刷新, F8 同步 …), and two shortcuts on one key cancel each other out in Qt.

        # Enter/Tab may move the focus to a field below the visible part of a step: scroll to it.
        QApplication.instance().focusChanged.connect(self._focus_changed)

        self._autosave = QTimer(self)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self._autosave_tick)
        self._autosave.start()

        # Start the PDF render process and load slow tables (ID-number regions) now, off the GUI
        # thread, so neither the first card read nor step 6 waits for them.
        self.warmed = False
        # (held weakly: a clerk who cancels at once closes the widget before the warm-up ends)
        submit(ctx.tasks.io, warm_up, on_success=self._warmed, on_failure=self._warmed)

        # The applicant's screen greets the applicant while the clerk works.
        try:
            from ui.applicant_screen import applicant_screen_for

            applicant_screen_for(ctx).show_welcome()
            # the applicant's window must not keep the clerk's keyboard (platforms that ignore
            # "show without activating" activate it): hand activation back to the clerk's window
            QTimer.singleShot(0, lambda: self.window().activateWindow() if self.isVisible() else None)
        except Exception:  # a second screen that cannot open must not stop the acceptance
            log.exception("applicant screen could not be opened")

        if case_id is not None:
            self._load_case(case_id)
        elif worklist_id is not None:
            self._load_worklist(worklist_id)
        else:
            self._enter(0)
        self._check_allowed()

    # ------------------------------------------------------------------ convenience
    @property
    def current(self) -> Step:
        return self.steps[self.index]

    @property
    def submit_step(self) -> SubmitStep:
        return self.steps[SUBMIT_INDEX]  # type: ignore[return-value]

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)

    @property
    def busy(self) -> bool:
        return self._moving or self._loading or self.current.busy

    @property
    def actor(self) -> Actor:
        return self.ctx.actor or Actor("counter", "clerk")

    def _warmed(self, _result=None) -> None:
        self.warmed = True
        self.warmed_up.emit()

    # ------------------------------------------------------------------ loading
    def _load_case(self, case_id: str) -> None:
        self.show_message("正在打开办件……", "info")

        def loaded(result) -> None:
            record, photo = result
            s = self.session
            from counter_app.lifecycle import EDITABLE_STATES

            if record.state not in EDITABLE_STATES:
                self._loading = False
                self.show_message(f"办件 {record.case_no} 已提交（{record.state.title}），不能在受理界面修改；"
                                  "请在办件详情中查看或发起更正。", "error")
                self._update_buttons()
                return
            s.app, s.case_id, s.case_no = record.application, record.id, record.case_no
            s.photo_jpeg = photo
            s.app.signature = None   # a signature belongs to a rendered form of this session only
            self._loading = False
            self.furthest = 2 if s.app.items else 1
            self._enter(0)
            self.show_message(f"已打开草稿 {record.case_no}，请核对后继续。", "info")

        def failed(exc: BaseException) -> None:
            self._loading = False
            self.show_message(user_message(exc, "打开办件"), "error")
            self._update_buttons()

        self.ctx.tasks.db.run(load_case, self.ctx.window, case_id, on_success=loaded, on_failure=failed)

    def _load_worklist(self, platform_id: str) -> None:
        self.show_message("正在读取网上申请……", "info")

        def loaded(app) -> None:
            self.session.app = app
            self._loading = False
            self._enter(0)
            self.show_message("已载入网上申请，请放置申请人身份证核验身份。", "info")

        def failed(exc: BaseException) -> None:
            self._loading = False
            self.show_message(user_message(exc, "读取网上申请"), "error")
            self._update_buttons()

        self.ctx.tasks.db.run(load_worklist_application, self.ctx.window, platform_id, on_success=loaded,
                              on_failure=failed)

    def _check_allowed(self) -> None:
        from ui.acceptance.submit_step import acceptance_allowed

        def result(value: tuple[bool, str]) -> None:
            allowed, reason = value
            self.submit_step.allowed = value
            if not allowed and not self.session.finalized:
                self._blocked_reason = reason
                self.show_message(f"暂停受理新办件：{reason}", "error")

        self.ctx.tasks.db.run(acceptance_allowed, self.ctx.window, on_success=result, on_failure=lambda exc: None)

    # ------------------------------------------------------------------ navigation
    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is not None and shiboken6.isValid(self) and self.current.isAncestorOf(new):
            scroll_into_view(self.current, new)

    def _enter(self, index: int) -> None:
        if self.last_message[1] in ("error", "warning") and index != self.index:
            self.show_message("")   # a problem of the step left behind does not follow the clerk
        self.index = index
        self.furthest = max(self.furthest, index)
        step = self.steps[index]
        if step.read_only and not step.read_only_applied:
            step.set_read_only(True)
            step.read_only_applied = True
        self.stack.setCurrentIndex(index)
        step.enter()
        self._refresh_list()
        self._rebuild_actions()
        self._update_buttons()
        self._update_heading()
        QTimer.singleShot(0, step, step.focus_first)  # not after the widget is gone
        self.step_changed.emit(index)

    def go_next(self) -> None:
        self._release_if_idle()   # an earlier advance that chose not to move on holds nothing now
        self._move_waiting = None
        if self.busy:
            self.show_message("正在处理，请稍候……", "info")
            return
        step = self.current
        step.commit()
        blockers = step.blockers()
        if blockers:
            shown = blockers[:MAX_BLOCKERS_SHOWN]
            more = f"\n（另有 {len(blockers) - len(shown)} 项）" if len(blockers) > len(shown) else ""
            self.show_message("还不能进入下一步：\n" + "\n".join(f"· {b}" for b in shown) + more, "error")
            return
        self._moving = True
        self._update_buttons()
        index = self.index

        def proceed() -> None:
            self._moving = False
            if self.index != index:
                return
            if index + 1 >= len(self.steps):
                self._finish()
                return
            step.leave()
            self._save_draft()
            self._enter(index + 1)
            if step.key in ("photo", "print", "submit"):
                # those steps leave large freed buffers behind (frames, page images)
                self.ctx.tasks.io.run(release_memory, on_failure=lambda _e: None)

        step.advance(proceed)
        # advance() may finish later (a database job); if it chose not to proceed (e.g. after
        # submitting, the clerk stays to print the receipt) the widget must not stay "moving"
        QTimer.singleShot(0, self._release_if_idle)

    def _step_busy_changed(self, busy: bool) -> None:
        if not busy:
            # an advance() that finished its job without moving on (submit stays to print the
            # receipt; a refused draft) must not leave the stepper locked
            QTimer.singleShot(0, self._release_if_idle)
            QTimer.singleShot(0, self, lambda: self._step_moves_on(self.current, self._move_waiting))
        self._update_buttons()

    def _step_moves_on(self, step: Step, waiting: int | None = -1) -> None:
        """A step that moves the case on by itself (signed, scanned, submitted): at once, or when
        the stepper is free again — a job that started in between (the platform's acknowledgement
        re-rendering the receipt) must not swallow the move and leave the clerk to press F9."""
        if self.current is not step or waiting not in (-1, self.index):
            return
        self._release_if_idle()
        self._move_waiting = self.index if self.busy else None
        if self._move_waiting is None:
            self.go_next()

    def _release_if_idle(self) -> None:
        if self._moving and not self.current.busy:
            self._moving = False
            self._update_buttons()

    def go_back(self) -> None:
        if self.busy or self.index == 0:
            return
        self.goto(self.index - 1)

    def goto(self, index: int) -> None:
        """Show step ``index``: backwards freely, forwards only through steps that are complete."""
        if self.busy or index == self.index or not 0 <= index < len(self.steps):
            return
        if index > self.furthest:
            self.show_message("请按顺序完成前面的步骤（F9 下一步）。", "warning")
            self._refresh_list()
            return
        if self.session.finalized and index < SUBMIT_INDEX:
            self.show_message("办件已提交，前面的步骤只能查看，不能修改。", "info")
        if index > self.index:
            self.current.commit()
            for i in range(self.index, index):
                blockers = self.steps[i].blockers()
                if blockers:
                    self.current.leave()
                    self._enter(i)
                    self.show_message("还不能进入下一步：\n" + "\n".join(f"· {b}" for b in blockers[:4]), "error")
                    return
        self.current.leave()
        self._save_draft()
        self._enter(index)

    def _list_clicked(self, row: int) -> None:
        if row != self.index and row >= 0:
            self.goto(row)

    def trigger_action(self, key: str) -> None:
        for k, _label, method in self.current.actions:
            if k == key and self._action_visible(self.current, method):
                getattr(self.current, method)()
                return

    def _action_visible(self, step: Step, method: str) -> bool:
        if method in ("place_demo_card", "demo_scan"):
            return self.ctx.demo
        return True

    def event(self, event) -> bool:  # noqa: ANN001
        if event.type() == QEvent.Type.ShortcutOverride and stepper_key(self, event) is not None:
            event.accept()   # ours: delivered to keyPressEvent instead of the window's shortcuts
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        action = stepper_key(self, event)
        if action is not None:
            event.accept()
            action()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            if not self.entry.enter(QApplication.focusWidget()):
                self.go_next()
            event.accept()
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------------ drafts
    def _mark_dirty(self) -> None:
        self._dirty = True
        self._refresh_list()

    def _autosave_tick(self) -> None:
        if self._dirty and not self.busy:
            self.current.commit()
            self._save_draft()

    def _save_draft(self) -> None:
        s = self.session
        if s.case_id is None or s.finalized or not self._dirty:
            return
        self._dirty = False
        self._saving += 1
        case_id = s.case_id

        def saved(_record) -> None:
            if not shiboken6.isValid(self):
                return   # cancelled and removed by the shell before the save answered: nothing to show
            self._saving -= 1
            from counter_app.clock import beijing_now

            self.saved_label.setText(f"草稿已保存 {beijing_now():%H:%M:%S}")
            self.draft_saved.emit(case_id)

        def failed(exc: BaseException) -> None:
            if not shiboken6.isValid(self):
                log.warning("草稿保存失败（受理界面已关闭）：%s", type(exc).__name__)
                return
            self._saving -= 1
            self._dirty = True  # try again at the next move or autosave
            self.show_message(user_message(exc, "保存草稿") + "　已填写的内容仍在屏幕上，稍后会自动重试保存。", "error")

        self.ctx.tasks.db.run(create_or_save_draft, self.ctx.window, case_id, s.app.copy(), self.actor,
                              on_success=saved, on_failure=failed)

    def save_now(self) -> None:
        """Save the draft now (the shell calls this before locking the screen or closing)."""
        self.current.commit()
        self._dirty = True
        self._save_draft()

    # ------------------------------------------------------------------ ending
    def _finalized(self) -> None:
        # Locking a step disables dozens of fields (each a style re-polish): done when the clerk
        # next opens that step, not all at once here on the GUI thread.
        for step in self.steps[:SUBMIT_INDEX]:
            step.read_only = True
            step.read_only_applied = False
        self.cancel_button.setText("结束 (Esc)")
        self._refresh_list()
        self._update_heading()
        self._update_buttons()

    def _finish(self) -> None:
        if self.ended:
            return   # the rating ended it already; a late F9 must not end it twice
        self.ended = True
        s = self.session
        self._autosave.stop()
        release_memory()
        screen = self.ctx.applicant_screen
        if screen is not None:
            screen.show_welcome()
        self.finished.emit(s.case_id or "")

    def cancel(self) -> None:
        s = self.session
        if s.finalized:
            self.current.leave()
            self._finish()
            return
        if s.case_id is not None:
            text = f"结束本次受理？已填写的内容保存为草稿（{s.case_no}），可在工作台继续办理。"
        else:
            text = "取消本次受理？尚未建立办件，已填写的内容将不会保存。"
        box = QMessageBox(QMessageBox.Icon.Question, "取消受理", text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setObjectName("cancelBox")
        box.finished.connect(lambda result: self._cancel_answered(result == QMessageBox.StandardButton.Yes))
        box.open()

    def _cancel_answered(self, yes: bool) -> None:
        if not yes:
            return
        self.confirm_cancel()

    def confirm_cancel(self) -> None:
        """Cancel without asking (after the clerk confirmed): saves the draft, then ``cancelled``."""
        self.current.leave()
        self.current.commit()
        self._dirty = True
        self._save_draft()
        self._autosave.stop()
        screen = self.ctx.applicant_screen
        if screen is not None:
            screen.show_welcome()
        self.cancelled.emit()

    # ------------------------------------------------------------------ display
    def show_message(self, text: str, level: str = "info") -> None:
        level = level if level in ("ok", "info", "warning", "error") else "info"
        self.last_message = (text, level)
        self.banner.setText(text)
        set_role(self.banner, f"banner-{level}")
        self.banner.setVisible(bool(text))
        self.message_shown.emit(text, level)

    def _refresh_list(self) -> None:
        self.step_list.blockSignals(True)
        s = self.session
        for i, step in enumerate(self.steps):
            item = self.step_list.item(i)
            done = i < self.furthest or (s.finalized and i <= SUBMIT_INDEX)
            mark = "✓ " if done and i != self.index else ""
            item.setText(f"{mark}{i + 1}　{step.title}")
            flags = item.flags()
            reachable = i <= self.furthest
            item.setFlags(flags | Qt.ItemFlag.ItemIsEnabled if reachable else flags & ~Qt.ItemFlag.ItemIsEnabled)
        self.step_list.setCurrentRow(self.index)
        self.step_list.blockSignals(False)

    def _rebuild_actions(self) -> None:
        while self.action_bar.count():
            item = self.action_bar.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()   # gone from view now, not at the next loop turn
                item.widget().deleteLater()
        step = self.current
        for key, label, method in step.actions:
            if not self._action_visible(step, method):
                continue
            b = QPushButton(f"{key} {label}")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # the key is the keyboard path
            b.clicked.connect(lambda _c=False, key=key: self.trigger_action(key))
            self.action_bar.addWidget(b)
        self.action_bar.addStretch(1)

    def _update_buttons(self) -> None:
        busy = self.busy
        last = self.index == len(self.steps) - 1
        if self.index == SUBMIT_INDEX and not self.session.finalized:
            self.next_button.setText("提交 (F9)")
        elif last:
            self.next_button.setText("完成 (F9)")
        else:
            self.next_button.setText(NEXT_LABEL)
        self.next_button.setEnabled(not busy)
        self.back_button.setEnabled(not busy and self.index > 0)

    def _update_heading(self) -> None:
        s = self.session
        source = "网上申请" if s.app.source == "online" else "现场申请"
        if s.case_no:
            state = "已提交" if s.finalized else "草稿"
            self.heading.setText(f"受理　{s.case_no}（{state}，{source}）")
        else:
            self.heading.setText(f"新受理（{source}）")
