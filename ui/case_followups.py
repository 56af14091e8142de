"""After acceptance, on the case detail: the stamped 落户介绍信 scanned back, 出件 of items 4, 5 and 8,
and the ratings with the channel each came through (the window's applicant screen or the
platform's own), with the request for the platform to invite the completion rating.

:func:`load_followups` runs on ``ctx.tasks.db`` and returns masked text only. The actions call the
core (``counter_app.sync.followups``, ``counter_app.delivery``); the sync worker sends what they
queue. Signal ``changed()`` after an action changed the case (the page reloads), ``loaded()``
after a load.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QFileDialog, QGridLayout, QGroupBox, QLabel, QPushButton, QSizePolicy, QWidget

from ui.background import submit
from ui.context import AppContext
from ui.errors import user_message


@dataclass
class FollowUpsView:
    case_id: str
    case_no: str
    letter: str = ""
    letter_needed: bool = False          # the letter can (still) be scanned back
    handovers: list[str] = field(default_factory=list)
    candidates: list = field(default_factory=list)   # counter_app.delivery.HandoverCandidate
    ratings: list[str] = field(default_factory=list)
    invitation: str = ""
    can_invite: bool = False


def _local(at) -> str:
    from counter_app.clock import CHINA_TZ

    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if at else ""


def _masked_tracking(no: str) -> str:
    return no[:3] + "…" + no[-4:] if len(no) > 8 else no


def load_followups(window, case_id: str) -> FollowUpsView:
    """Blocks (database, decryption): ``ctx.tasks.db``. Personal values masked."""
    from counter_app.delivery import DeliveryMode, handover_candidates, handovers
    from counter_app.masking import mask_name
    from counter_app.sync.followups import invitation_state, letter_state, ratings_of
    from counter_app.sync.ratings import rating_offer

    rec = window.cases.get(case_id)
    view = FollowUpsView(case_id, rec.case_no)
    letter = letter_state(window, case_id)
    view.letter = letter.text
    view.letter_needed = bool(letter.needed and not letter.sealed and not letter.sha256 and rec.finalized_at)
    for h in handovers(window.cases, case_id):
        how = (f"邮寄，邮件单号 {_masked_tracking(h.tracking_no)}" if h.mode is DeliveryMode.MAIL
               else f"申请人自取，领取人 {mask_name(h.received_by)}，已签名")
        view.handovers.append(f"事项{h.item}：{how}；交付人 {h.handed_by}，{_local(h.at)}")
    view.candidates = handover_candidates(window.cases, case_id)
    view.ratings = [f"{r.text}　{_local(r.at)}" for r in ratings_of(window, case_id)]
    inv = invitation_state(window, case_id)
    offer = rating_offer(window, case_id)
    if inv is not None:
        if inv.answer.startswith("省平台拒收"):
            view.invitation = inv.answer
        elif inv.sent_at is None:
            if offer == "completion":
                view.invitation = f"已请省平台发送办结评价邀请（{_local(inv.requested_at)}），等待上报"
        else:
            view.invitation = f"省平台已发送办结评价邀请短信（{_local(inv.sent_at)}）" + (
                "，等待申请人评价" if offer == "completion" else "")
    view.can_invite = offer == "completion" and inv is None
    return view


class CaseFollowUpsPanel(QGroupBox):
    changed = Signal()
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__("落户介绍信、出件与评价", parent)
        self.ctx = ctx
        self.setObjectName("caseFollowUps")
        self.view: FollowUpsView | None = None
        self.letter = QLabel("")
        self.letter.setObjectName("followupLetter")
        self.handovers = QLabel("")
        self.handovers.setObjectName("followupHandovers")
        self.ratings = QLabel("")
        self.ratings.setObjectName("followupRatings")
        for label in (self.letter, self.handovers, self.ratings):
            label.setWordWrap(True)
        self.letter_button = QPushButton("回传盖章的落户介绍信(&L)")
        self.letter_button.setObjectName("letterScanButton")
        self.handover_button = QPushButton("出件登记(&H)")
        self.handover_button.setObjectName("handoverButton")
        self.invite_button = QPushButton("请省平台邀请办结评价(&I)")
        self.invite_button.setObjectName("inviteRatingButton")
        self.message = QLabel("")
        self.message.setObjectName("followupMessage")
        self.message.setProperty("role", "hint")
        self.message.setWordWrap(True)
        grid = QGridLayout(self)
        for row, (name, label, button) in enumerate((("落户介绍信", self.letter, self.letter_button),
                                                     ("出件", self.handovers, self.handover_button),
                                                     ("好差评", self.ratings, self.invite_button))):
            title = QLabel(f"{name}：")
            title.setProperty("role", "hint")
            grid.addWidget(title, row, 0)
            grid.addWidget(label, row, 1)
            grid.addWidget(button, row, 2)
        grid.addWidget(self.message, 3, 0, 1, 3)
        grid.setColumnStretch(1, 1)
        # Its lines, not the tables below, decide its height: the tables scroll, these must not be clipped.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.letter_button.clicked.connect(self.import_letter_dialog)
        self.handover_button.clicked.connect(self.open_handover)
        self.invite_button.clicked.connect(self.invite_rating)
        self._dialog = None
        self._show(None)

    # ---- loading ---------------------------------------------------------------------------
    def show_case(self, case_id: str) -> None:
        submit(self.ctx.tasks.db, load_followups, self.ctx.window, case_id, on_success=self._show,
               on_failure=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(user_message(exc, "载入出件与评价"))
        self.loaded.emit()

    def _show(self, view: FollowUpsView | None) -> None:
        self.view = view
        self.letter.setText(view.letter if view else "")
        self.handovers.setText("\n".join(view.handovers) if view and view.handovers else
                               ("尚未登记" if view and view.candidates else "无需出件（未申请户口、身份证或社保卡）"))
        lines = list(view.ratings) if view else []
        if view and view.invitation:
            lines.append(view.invitation)
        self.ratings.setText("\n".join(lines) or "尚未评价")
        self.letter_button.setVisible(bool(view and view.letter_needed))
        self.handover_button.setEnabled(bool(view and any(c.ready for c in view.candidates)))
        self.handover_button.setVisible(bool(view and view.candidates))
        self.invite_button.setVisible(bool(view and view.can_invite))
        self.setVisible(view is not None)
        if view is not None:
            self.loaded.emit()

    def _done(self, text: str) -> None:
        self.message.setText(text)
        if self.ctx.sync is not None:
            self.ctx.sync.pull_now()        # the sync worker sends follow-ups before it pulls
        self.changed.emit()

    # ---- the stamped 落户介绍信, scanned back ---------------------------------------------------
    @Slot()
    def import_letter_dialog(self) -> None:
        start = getattr(self.ctx.window.settings, "scan_import_dir", "") or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "导入盖章的落户介绍信扫描件", start, "扫描件 (*.pdf *.jpg *.jpeg *.png)")
        if path:
            self.import_letter(path)

    def import_letter(self, path: str) -> None:
        """The acceptance's scan import (a PDF, or images made into one), then queued for the platform."""
        from ui.acceptance.print_step import read_signed_scan

        if self.view is None:
            return
        self.message.setText("正在导入落户介绍信扫描件……")
        submit(self.ctx.tasks.io, read_signed_scan, path, on_success=self._letter_read, on_failure=self._letter_failed)

    def _letter_read(self, result: tuple[bytes, int]) -> None:
        from counter_app.sync.followups import queue_settlement_letter

        pdf, _pages = result
        submit(self.ctx.tasks.db, queue_settlement_letter, self.ctx.window, self.view.case_id, pdf, "application/pdf",
               self.ctx.actor, on_success=self._letter_queued, on_failure=self._letter_failed)

    def _letter_queued(self, _sha: str) -> None:
        self._done("已导入盖章的落户介绍信，将随同步上报省平台，公安事项4、5随即推送。")

    def _letter_failed(self, exc: BaseException) -> None:
        self.message.setText(user_message(exc, "回传落户介绍信"))

    # ---- 出件 ----------------------------------------------------------------------------------
    @Slot()
    def open_handover(self) -> None:
        from ui.handover_dialog import HandoverDialog

        if self.view is None:
            return
        dialog = HandoverDialog(self.ctx, self.view.case_id, self.view.case_no, self.view.candidates, self)
        dialog.recorded.connect(self._handover_recorded)
        self._dialog = dialog
        dialog.open()

    @Slot(object)
    def _handover_recorded(self, record) -> None:
        self._done(f"已登记事项{record.item}出件（{record.mode.title}）。")

    # ---- the completion rating through the platform ---------------------------------------------
    @Slot()
    def invite_rating(self) -> None:
        from counter_app.sync.followups import request_rating_invitation

        if self.view is None:
            return
        submit(self.ctx.tasks.db, request_rating_invitation, self.ctx.window, self.view.case_id, self.ctx.actor,
               on_success=self._invited, on_failure=self._invite_failed)

    def _invited(self, _result: object) -> None:
        self._done("已请省平台以短信邀请申请人对办结服务评价。")

    def _invite_failed(self, exc: BaseException) -> None:
        self.message.setText(user_message(exc, "邀请办结评价"))
