"""The applicant-facing screen: review the form, sign it, rate the service (好差评).

It is a top-level window of its own, full screen on a second monitor when one is attached (the
monitor turned towards the applicant), otherwise an ordinary window beside the clerk's. It
follows monitors being plugged in or out while the program runs.

What the applicant sees, in turn: a welcome page; the generated form (pages rendered from the
PDF with pypdfium2 on ``ctx.tasks.io``, never on the GUI thread) with the signature area under
the declaration; the rating buttons. The applicant's signature is checked with
``devices.signature.Signature.validate`` before it is accepted: a blank or implausible one is
refused on this screen with the reason.

The rating belongs to the applicant: this screen records it itself (``record_rating`` on the
``ctx.tasks.db`` worker) and only then tells the clerk's side ``rating_saved(case_id)`` — the level
is never emitted, so the clerk's screen cannot show or steer the choice.

Thread contract: GUI thread only; blocking work goes through ``ctx.tasks``.
"""
from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPixmap, QScreen
from PySide6.QtWidgets import (
    QApplication, QButtonGroup, QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy,
    QStackedWidget, QVBoxLayout, QWidget,
)

from counter_app.scheme import DECLARATION, RATINGS
from devices.signature import Signature
from ui.acceptance.style import ensure_ui_fonts, set_role
from ui.print_preview import render_pdf_pages
from ui.signature_pad import SignaturePad

log = logging.getLogger(__name__)

RATING_STAGE = "acceptance"
TITLE_BAR_PX = 40
# A4 is 595 pt wide; the form's body text is 10.5 pt: 16 px needs the page ≥ 16 / 10.5 × 595 ≈ 907 px.
READABLE_PAGE_PX = 920
REASON_MAX = 500
# Touch-friendly reasons, as 好差评 terminals offer them: the applicant's screen takes no keyboard.
REASON_TAGS = ("办事效率高", "一次办好", "服务态度好", "指引清楚", "等候时间长", "流程繁琐", "材料要求不清楚",
               "服务态度差")


def record_rating(window: Any, case_id: str, level: str, reason: str = "", *, stage: str = RATING_STAGE) -> None:
    """Store the applicant's rating (GB/T 39735 five levels). Blocks on the database: ``ctx.tasks.db``.

    The rule lives in one place, ``counter_app.sync.ratings.record_rating``: one rating per case and
    stage, a reason required for 不满意 / 非常不满意, written with the case row and an audit entry,
    sent to the platform by the sync worker. Its errors carry a Chinese ``message``.
    """
    from counter_app.sync.ratings import record_rating as core_record

    core_record(window, case_id, level, (reason or "").strip()[:REASON_MAX], stage=stage)


class ApplicantScreen(QWidget):
    """See the module docstring. Signals: ``signature_accepted(Signature)``, ``signature_refused(str)``,
    ``rating_saved(str case_id)``, ``rating_failed(str message)``, ``form_shown(int pages)``."""

    signature_accepted = Signal(object)
    signature_refused = Signal(str)
    rating_saved = Signal(str)
    rating_declined = Signal(str)   # the applicant pressed 不评价 (case id): only the applicant can skip
    rating_failed = Signal(str)
    form_shown = Signal(int)

    PAGE_WELCOME, PAGE_FORM, PAGE_MESSAGE, PAGE_RATING = range(4)

    def __init__(self, ctx: Any, parent: QWidget | None = None):
        # The applicant's screen never takes the keyboard from the clerk: it is shown without
        # activation and refuses focus, so the clerk's F9 / Enter keep working while the applicant
        # taps and signs (touch, pen and mouse input reach its widgets all the same).
        super().__init__(parent, Qt.WindowType.Window | Qt.WindowType.WindowDoesNotAcceptFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
        ensure_ui_fonts()
        self.ctx = ctx
        self.setWindowTitle("申请人确认屏")
        self.setObjectName("applicantScreen")  # its rules in app.qss: larger text and touch targets
        self._generation = 0
        self._rating_case: str | None = None
        self._rating_stage = RATING_STAGE
        self._signing = False
        self.form_pages: list[QImage] = []

        self.stack = QStackedWidget()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 16, 24, 16)
        header = QLabel("退役军人服务“一件事”综合受理窗口")
        header.setAlignment(Qt.AlignmentFlag.AlignCenter)
        header.setStyleSheet("font-size: 24px; font-weight: bold; color: #1f4e79;")
        outer.addWidget(header)
        outer.addWidget(self.stack, 1)

        # welcome --------------------------------------------------------------
        welcome = QLabel("您好！工作人员正在为您办理业务。\n请在此屏幕上核对申请信息并签名。")
        welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
        welcome.setStyleSheet("font-size: 28px; color: #1f2d3d;")
        self.stack.addWidget(welcome)

        # form + signature ----------------------------------------------------------
        form_page = QWidget()
        fl = QHBoxLayout(form_page)
        fl.setContentsMargins(0, 0, 0, 0)
        self.pages_scroll = QScrollArea()
        self.pages_scroll.setWidgetResizable(True)
        self.pages_host = QWidget()
        self.pages_layout = QVBoxLayout(self.pages_host)
        self.pages_layout.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.pages_scroll.setWidget(self.pages_host)
        self.pages_status = QLabel("正在生成申请表……")
        set_role(self.pages_status, "hint")
        left = QVBoxLayout()
        left.addWidget(QLabel("请核对您的申请表："))
        left.addWidget(self.pages_scroll, 1)
        left.addWidget(self.pages_status)
        fl.addLayout(left, 3)
        right = QVBoxLayout()
        self.declaration = QLabel("申请承诺：" + DECLARATION)
        self.declaration.setWordWrap(True)
        self.declaration.setStyleSheet("font-size: 18px;")
        right.addWidget(self.declaration)
        self.sign_title = QLabel("请在下方框内签写您的姓名：")
        right.addWidget(self.sign_title)
        self.pad = SignaturePad()
        self.pad.setMinimumHeight(200)
        right.addWidget(self.pad, 1)
        self.sign_error = QLabel("")
        self.sign_error.setWordWrap(True)
        set_role(self.sign_error, "error")
        self.sign_error.setStyleSheet("font-size: 18px;")
        right.addWidget(self.sign_error)
        buttons = QHBoxLayout()
        self.clear_button = QPushButton("清除重签")
        self.confirm_button = QPushButton("确认签名")
        set_role(self.confirm_button, "primary")
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.confirm_button)
        right.addLayout(buttons)
        fl.addLayout(right, 2)
        self.stack.addWidget(form_page)
        self.clear_button.clicked.connect(self._clear_signature)
        self.confirm_button.clicked.connect(self.confirm_signature)
        self.pad.changed.connect(lambda: self.sign_error.setText(""))

        # message --------------------------------------------------------------
        self.message = QLabel("")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("font-size: 28px; color: #1f2d3d;")
        self.stack.addWidget(self.message)

        # rating ----------------------------------------------------------------
        rating = QWidget()
        rl = QVBoxLayout(rating)
        q = QLabel("请您对本次受理服务进行评价")
        q.setAlignment(Qt.AlignmentFlag.AlignCenter)
        q.setStyleSheet("font-size: 28px; font-weight: bold;")
        rl.addWidget(q)
        grid = QGridLayout()
        self.rating_group = QButtonGroup(self)
        self.rating_group.setExclusive(True)
        self.rating_buttons: dict[str, QPushButton] = {}
        for i, level in enumerate(RATINGS):
            b = QPushButton(level)
            b.setCheckable(True)
            b.setMinimumHeight(72)
            b.setStyleSheet("QPushButton { font-size: 24px; } QPushButton:checked { background: #1f6fbf; color: white; }")
            self.rating_group.addButton(b, i)
            self.rating_buttons[level] = b
            grid.addWidget(b, 0, i)
        rl.addLayout(grid)
        rl.addWidget(QLabel("原因（可选，可多选；选择“不满意”“非常不满意”时请至少选一项）："))
        tags = QGridLayout()
        self.reason_buttons: dict[str, QPushButton] = {}
        for i, text in enumerate(REASON_TAGS):
            b = QPushButton(text)
            b.setCheckable(True)
            b.setMinimumHeight(52)
            b.setStyleSheet("QPushButton:checked { background: #d6e6f5; border: 2px solid #1f6fbf; }")
            self.reason_buttons[text] = b
            tags.addWidget(b, i // 4, i % 4)
        rl.addLayout(tags)
        self.rating_error = QLabel("")
        set_role(self.rating_error, "error")
        rl.addWidget(self.rating_error)
        self.submit_rating_button = QPushButton("提交评价")
        set_role(self.submit_rating_button, "primary")
        self.submit_rating_button.setEnabled(False)
        rl.addWidget(self.submit_rating_button)
        self.decline_button = QPushButton("不评价")
        self.decline_button.setMinimumHeight(52)
        rl.addWidget(self.decline_button)
        self.decline_button.clicked.connect(self.decline_rating)
        rl.addStretch(1)
        self.stack.addWidget(rating)
        self.rating_group.idClicked.connect(lambda _i: self.submit_rating_button.setEnabled(True))
        self.submit_rating_button.clicked.connect(self.submit_rating)

        app = QGuiApplication.instance()
        app.screenAdded.connect(lambda _s: self.place())
        app.screenRemoved.connect(lambda _s: self.place())

    # ------------------------------------------------------------------ placement
    def applicant_qscreen(self) -> QScreen | None:
        """The monitor facing the applicant: any screen other than the primary one, else None."""
        primary = QGuiApplication.primaryScreen()
        others = [s for s in QGuiApplication.screens() if s is not primary]
        return others[0] if others else None

    def place(self) -> None:
        """Full screen on the second monitor when present, else a normal window."""
        screen = self.applicant_qscreen()
        if screen is not None:
            self.setScreen(screen)
            self.setGeometry(screen.geometry())
            self.showFullScreen()
        else:
            # One monitor: the clerk's window is maximised on it; this one fits inside the screen
            # with its title bar (768 px counter PCs) and comes to the front when it is its turn.
            if self.isFullScreen():
                self.showNormal()
            area = QGuiApplication.primaryScreen().availableGeometry()
            self.resize(QSize(min(1180, area.width()), min(760, area.height() - TITLE_BAR_PX)))
            self.show()

    def present(self) -> None:
        """The applicant's turn (review and sign, rate): on one monitor the window comes to the
        front over the clerk's and takes the screen; on a second monitor it is there already."""
        if self.applicant_qscreen() is not None:
            if not self.isFullScreen():
                self.place()
            return
        self.showMaximized()
        self.raise_()   # in front, but never the clerk's keyboard (WindowDoesNotAcceptFocus)

    def step_back(self) -> None:
        """The applicant is done for now: on one monitor the clerk's window is in front again."""
        if self.applicant_qscreen() is not None:
            return
        self.showNormal()
        self.lower()
        for w in QApplication.topLevelWidgets():
            if w is not self and w.isVisible() and w.objectName() in ("mainWindow", "acceptance"):
                w.activateWindow()
                w.raise_()
                break

    @property
    def on_second_monitor(self) -> bool:
        return self.applicant_qscreen() is not None

    # ------------------------------------------------------------------ pages
    def show_welcome(self) -> None:
        self._signing = False
        self.stack.setCurrentIndex(self.PAGE_WELCOME)

    def show_message(self, text: str) -> None:
        self._signing = False
        self.message.setText(text)
        self.stack.setCurrentIndex(self.PAGE_MESSAGE)

    def show_form(self, pdf: bytes, *, sign: bool = True) -> None:
        """Show the form for review; with ``sign`` the signature area is active and cleared."""
        self._generation += 1
        generation = self._generation
        self._signing = sign
        self.pad.clear()
        self.sign_error.setText("")
        for w in (self.pad, self.clear_button, self.confirm_button, self.sign_title):
            w.setEnabled(sign)
        self.pages_status.setText("正在生成申请表……")
        self.stack.setCurrentIndex(self.PAGE_FORM)
        self.present()
        dpr = self.devicePixelRatioF() or 1.0
        # Never smaller than reading size for older applicants: the form's body text at ≥ 16 px
        # (a narrower window scrolls sideways, page by page, rather than shrinking the text).
        width = int(max(READABLE_PAGE_PX, self.pages_scroll.viewport().width() - 24) * dpr)
        self.ctx.tasks.io.run(render_pdf_pages, pdf, width_px=width,
                              on_success=lambda pages: self._pages_ready(generation, pages),
                              on_failure=lambda exc: self._pages_failed(generation, exc))

    def _pages_ready(self, generation: int, pages: list[QImage]) -> None:
        if generation != self._generation:
            return
        while self.pages_layout.count():
            item = self.pages_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()   # gone from view now, not at the next loop turn
                item.widget().deleteLater()
        self.form_pages = pages
        dpr = self.devicePixelRatioF() or 1.0
        for img in pages:
            label = QLabel()
            pix = QPixmap.fromImage(img)   # rendered at the width shown: no rescaling here
            pix.setDevicePixelRatio(dpr)
            label.setPixmap(pix)
            label.setStyleSheet("background: white; border: 1px solid #b9c0ca;")
            label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            self.pages_layout.addWidget(label)
        self.pages_status.setText(f"申请表共 {len(pages)} 页，可上下滚动查看")
        self.form_shown.emit(len(pages))

    def _pages_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.pages_status.setText(getattr(exc, "message", None) or "申请表显示失败，请告知工作人员。")

    # ------------------------------------------------------------------ signature
    def _clear_signature(self) -> None:
        self.pad.clear()
        self.sign_error.setText("")

    def confirm_signature(self) -> None:
        if not self._signing:
            return
        sig: Signature = self.pad.signature()
        problems = sig.validate()
        if problems:
            text = problems[0].message
            self.sign_error.setText(text + "。请点击“清除重签”后重新签名。")
            self.signature_refused.emit(text)
            return
        self._signing = False
        for w in (self.pad, self.clear_button, self.confirm_button):
            w.setEnabled(False)
        self.sign_error.setText("")
        self.signature_accepted.emit(sig)
        self.step_back()

    # ------------------------------------------------------------------ rating
    def ask_rating(self, case_id: str, stage: str = RATING_STAGE) -> None:
        if self._rating_case == case_id and self.stack.currentIndex() == self.PAGE_RATING:
            self.present()   # asked again: brought forward, the applicant's half-made choice stays
            return
        self._rating_case = case_id
        self._rating_stage = stage  # "acceptance", or "completion" when the applicant comes back
        self.rating_group.setExclusive(False)
        for b in self.rating_buttons.values():
            b.setChecked(False)
            b.setEnabled(True)
        self.rating_group.setExclusive(True)
        for b in self.reason_buttons.values():
            b.setChecked(False)
        self.rating_error.setText("")
        self.submit_rating_button.setEnabled(False)
        self.stack.setCurrentIndex(self.PAGE_RATING)
        self.present()

    def decline_rating(self) -> None:
        """The applicant's own 不评价: the acceptance ends without a rating."""
        case_id = self._rating_case
        if case_id is None:
            return
        self._rating_case = None
        self.show_message("感谢您的配合！")
        self.rating_declined.emit(case_id)
        self.step_back()

    def choose_rating(self, level: str) -> None:
        """Select a level as the applicant's tap does (the button's own click path)."""
        self.rating_buttons[level].click()

    def submit_rating(self) -> None:
        case_id = self._rating_case
        checked = self.rating_group.checkedButton()
        if case_id is None or checked is None:
            self.rating_error.setText("请先选择一个评价等级。")
            return
        level = checked.text()
        reason = "；".join(t for t, b in self.reason_buttons.items() if b.isChecked())
        self.submit_rating_button.setEnabled(False)
        for b in self.rating_buttons.values():
            b.setEnabled(False)

        def saved(_result: object) -> None:
            self._rating_case = None
            self.show_message("感谢您的评价！")
            self.rating_saved.emit(case_id)
            self.step_back()

        def failed(exc: BaseException) -> None:
            message = getattr(exc, "message", None) or "评价保存失败，请再点一次“提交评价”。"
            self.rating_error.setText(message)
            self.submit_rating_button.setEnabled(True)
            for b in self.rating_buttons.values():
                b.setEnabled(True)
            self.rating_failed.emit(message)

        self.ctx.tasks.db.run(record_rating, self.ctx.window, case_id, level, reason,
                              stage=self._rating_stage, on_success=saved, on_failure=failed)


def applicant_screen_for(ctx: Any) -> ApplicantScreen:
    """The context's applicant screen, created (and placed) on first use."""
    screen = ctx.applicant_screen
    if screen is None:
        screen = ApplicantScreen(ctx)
        ctx.applicant_screen = screen
    if not screen.isVisible():
        screen.place()
    return screen
