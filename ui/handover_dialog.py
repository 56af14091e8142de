"""出件 (规程 五(五) "各办理单位通过邮寄或者申请人自取方式，将实体证照送达申请人"): record how the certificate of
item 4, 5 or 8 reached the applicant — who handed it over and when, and either the mail tracking
number or the receiver's name and signature, signed on the applicant's screen.

One owner: the dialog only collects; ``counter_app.delivery.record_handover`` (the same function as
``counter-app case handover``) checks and records, on ``ctx.tasks.db``. Its refusals are shown here
and nothing typed is lost. Signal ``recorded(HandoverRecord)`` after the record is written.

Thread contract: GUI thread; the signature PNG and the record are made on the db worker.
"""
from __future__ import annotations

import datetime as _dt

from PySide6.QtCore import QDateTime, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QDateTimeEdit, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QRadioButton, QVBoxLayout, QWidget,
)

from counter_app.clock import CHINA_TZ
from counter_app.delivery import DeliveryMode, HandoverCandidate, record_handover
from ui.background import submit
from ui.context import AppContext
from ui.errors import user_message
from ui.handover_signing import ask_handover_signature, signature_png


def store_receiver_signature(window, signature) -> str:
    """``ctx.tasks.db``: the receiver's signature as PNG in the encrypted file store; its SHA-256."""
    return window.cases.put_attachment(signature_png(signature), "image/png")


class HandoverDialog(QDialog):
    recorded = Signal(object)

    def __init__(self, ctx: AppContext, case_id: str, case_no: str, candidates: list[HandoverCandidate],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.case_id, self.case_no = ctx, case_id, case_no
        self.setWindowTitle(f"出件登记　{case_no}")
        self.setObjectName("handoverDialog")
        self.signature_sha = ""
        self._page = None

        self.item = QComboBox()
        self.item.setObjectName("handoverItem")
        for c in candidates:
            if c.ready:
                self.item.addItem(f"事项{c.item}　{c.what}（{c.status.title}）", c.item)
        self.mail = QRadioButton("邮寄(&M)")
        self.pickup = QRadioButton("申请人自取(&Q)")
        self.mode = QButtonGroup(self)
        self.mode.addButton(self.mail)
        self.mode.addButton(self.pickup)
        self.pickup.setChecked(True)
        modes = QHBoxLayout()
        modes.addWidget(self.pickup)
        modes.addWidget(self.mail)
        modes.addStretch(1)
        self.handed_by = QLineEdit()
        self.handed_by.setObjectName("handoverHandedBy")
        self.handed_by.setPlaceholderText("经办部门及工作人员，如 红旗区人社局 王敏")
        self.handed_by.setMaxLength(64)
        self.at = QDateTimeEdit()
        self.at.setObjectName("handoverAt")
        self.at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.at.setCalendarPopup(True)
        now = _dt.datetime.now(CHINA_TZ).replace(second=0, microsecond=0, tzinfo=None)
        self.at.setDateTime(QDateTime(now))
        self.at.setMaximumDateTime(QDateTime(now))   # a handover is recorded when it happened, never ahead
        self.tracking = QLineEdit()
        self.tracking.setObjectName("handoverTracking")
        self.tracking.setPlaceholderText("邮件单号（见邮寄回单）")
        self.tracking.setMaxLength(32)
        self.received_by = QLineEdit()
        self.received_by.setObjectName("handoverReceivedBy")
        self.received_by.setPlaceholderText("申请人本人或受托人姓名")
        self.received_by.setMaxLength(30)
        self.sign_button = QPushButton("请领取人在申请人屏签名(&S)")
        self.sign_button.setObjectName("handoverSignButton")
        self.sign_state = QLabel("领取人尚未签名")
        self.sign_state.setObjectName("handoverSignState")
        sign_row = QHBoxLayout()
        sign_row.addWidget(self.sign_button)
        sign_row.addWidget(self.sign_state, 1)
        self.error = QLabel("")
        self.error.setObjectName("handoverError")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)

        form = QFormLayout()
        form.addRow("出件事项：", self.item)
        form.addRow("出件方式：", modes)
        form.addRow("交付人：", self.handed_by)
        form.addRow("交付时间：", self.at)
        form.addRow("邮件单号：", self.tracking)
        form.addRow("领取人：", self.received_by)
        form.addRow("领取人签名：", sign_row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("登记出件")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        layout = QVBoxLayout(self)
        if self.item.count() == 0:
            layout.addWidget(QLabel("该办件没有可登记出件的证照：事项4、5办结后，或社会保障卡制卡后，才能登记出件。"))
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.mail.toggled.connect(self._mode_changed)
        self.sign_button.clicked.connect(self.ask_signature)
        self._mode_changed()
        self.resize(620, 420)

    @property
    def chosen_mode(self) -> DeliveryMode:
        return DeliveryMode.MAIL if self.mail.isChecked() else DeliveryMode.PICKUP

    @Slot()
    def _mode_changed(self) -> None:
        mail = self.mail.isChecked()
        self.tracking.setEnabled(mail)
        for w in (self.received_by, self.sign_button, self.sign_state):
            w.setEnabled(not mail)
        self.error.setText("")

    # ---- the receiver's signature, on the applicant's screen ---------------------------------
    @Slot()
    def ask_signature(self) -> None:
        from ui.applicant_screen import applicant_screen_for

        what = self.item.currentText().split("　", 1)[-1].split("（")[0] if self.item.count() else ""
        screen = applicant_screen_for(self.ctx)
        self._page = ask_handover_signature(
            screen, f"本人已领取办件{self.case_no}的{what}，证照无误。\n请在下方框内签写领取人姓名。")
        self._page.signed.connect(self._signed, Qt.ConnectionType.UniqueConnection)
        self.sign_state.setText("请领取人在申请人屏上签名……")

    @Slot(object)
    def _signed(self, signature) -> None:
        screen = self.ctx.applicant_screen
        if screen is not None:
            screen.show_message("已确认领取，谢谢！")
            screen.step_back()
        self.sign_state.setText("正在保存签名……")
        submit(self.ctx.tasks.db, store_receiver_signature, self.ctx.window, signature,
               on_success=self._signature_stored, on_failure=self._failed)

    def _signature_stored(self, sha: str) -> None:
        self.signature_sha = sha
        self.sign_state.setText("领取人已签名 ✓")

    # ---- recording ---------------------------------------------------------------------------
    @Slot()
    def submit(self) -> None:
        if self.item.count() == 0:
            self.reject()
            return
        at = self.at.dateTime().toPython().replace(tzinfo=CHINA_TZ)
        self.ok_button.setEnabled(False)
        self.error.setText("")
        submit(self.ctx.tasks.db, record_handover, self.ctx.window.cases, self.case_id, int(self.item.currentData()),
               self.chosen_mode, self.ctx.actor, handed_by=self.handed_by.text(),
               received_by=self.received_by.text() if self.pickup.isChecked() else "",
               signature=self.signature_sha if self.pickup.isChecked() else "",
               tracking_no=self.tracking.text() if self.mail.isChecked() else "", at=at,
               on_success=self._recorded, on_failure=self._failed)

    def _recorded(self, record) -> None:
        self.recorded.emit(record)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.ok_button.setEnabled(True)
        self.error.setText(user_message(exc, "登记出件"))
