"""The receiver's signature for a certificate picked up (出件, 申请人自取), on the applicant's screen.

The same signing pad as the acceptance (``ui.signature_pad.SignaturePad``) and the same check of
the strokes (``Signature.validate``), on a page of its own added to the applicant screen's stack:
the applicant reads what they confirm receiving and signs there, not on the clerk's screen.

Signals: ``signed(Signature)`` once a plausible signature is confirmed; ``refused(str)`` with the
reason shown to the applicant. Thread contract: GUI thread only.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from devices.signature import Signature
from ui.acceptance.style import set_role
from ui.signature_pad import SignaturePad


class HandoverSigningPage(QWidget):
    signed = Signal(object)
    refused = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("handoverSigningPage")
        self._active = False
        title = QLabel("领取确认")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title.setStyleSheet("font-size: 28px; font-weight: bold;")
        self.text = QLabel("")
        self.text.setWordWrap(True)
        self.text.setStyleSheet("font-size: 22px;")
        self.pad = SignaturePad(placeholder="请领取人在此框内签写姓名")
        self.pad.setMinimumHeight(220)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        set_role(self.error, "error")
        self.clear_button = QPushButton("清除重签")
        self.confirm_button = QPushButton("确认签名")
        set_role(self.confirm_button, "primary")
        buttons = QHBoxLayout()
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.confirm_button)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.text)
        layout.addWidget(self.pad, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.clear_button.clicked.connect(self._clear)
        self.confirm_button.clicked.connect(self.confirm)
        self.pad.changed.connect(lambda: self.error.setText(""))

    def start(self, text: str) -> None:
        self._active = True
        self.text.setText(text)
        self._clear()
        for w in (self.pad, self.clear_button, self.confirm_button):
            w.setEnabled(True)

    def _clear(self) -> None:
        self.pad.clear()
        self.error.setText("")

    def confirm(self) -> None:
        if not self._active:
            return
        sig: Signature = self.pad.signature()
        problems = sig.validate()
        if problems:
            message = problems[0].message
            self.error.setText(message + "。请点击“清除重签”后重新签名。")
            self.refused.emit(message)
            return
        self._active = False
        for w in (self.pad, self.clear_button, self.confirm_button):
            w.setEnabled(False)
        self.signed.emit(sig)


def ask_handover_signature(screen: Any, text: str) -> HandoverSigningPage:
    """Show the signing page on the applicant screen (``ui.applicant_screen.ApplicantScreen``),
    adding it to the screen's pages on first use. Returns the page; connect to its ``signed``."""
    page = screen.stack.findChild(HandoverSigningPage)
    if page is None:
        page = HandoverSigningPage()
        screen.stack.addWidget(page)
    page.start(text)
    screen.stack.setCurrentWidget(page)
    screen.present()
    return page


def signature_png(signature: Signature) -> bytes:
    """The PNG kept with the handover (the acceptance's size and pen). Any thread."""
    return signature.to_png(scale=0.5, pen_width=2.6)
