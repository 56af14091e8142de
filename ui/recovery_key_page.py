"""The first-run wizard's last page: the window's recovery key, shown once.

After the settings are saved, a recovery key is issued (``counter_app.security.recovery.issue``;
the data keys are sealed to it inside the database). The page shows it as text and as the printable
sheet with its QR code (``printing.recovery_sheet``, the sheet ``keys recovery-key --pdf`` prints),
offers 打印 and 另存为PDF, and the wizard cannot finish — nor be cancelled — until IT ticks that it
has been written down or printed and put away. The key exists only in this page's widgets (cleared
when the wizard closes) and in whatever IT prints: it is never logged or written to the data
directory.

Thread contract: GUI thread. Issuing the key is one small transaction; rendering the one-page
sheet takes a few tens of milliseconds, so both run inline while the page is being shown.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWizardPage,
)

log = logging.getLogger(__name__)

CONFIRM_TEXT = "我已将恢复密钥抄写或打印，并交中心负责人封存于保险柜"


class RecoveryKeyPage(QWizardPage):
    """``issue`` is called once with no argument and returns a ``recovery.RecoverySheet``."""

    def __init__(self, issue):  # noqa: ANN001 - a callable returning recovery.RecoverySheet
        super().__init__()
        self._issue = issue
        self.sheet = None
        self.sheet_pdf = b""
        self.setTitle("恢复密钥（只显示这一次）")
        self.setSubTitle("密钥库丢失（硬盘损坏、系统重装）时，只有凭它才能恢复本窗口的全部办件数据。"
                         "请打印恢复密钥单或完整抄写，交中心负责人封存；不要拍照，不要存放在本机。")
        outer = QVBoxLayout(self)
        self.key_label = QLabel()
        self.key_label.setObjectName("recoveryKeyText")
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.setStyleSheet("font-family: monospace; font-size: 15pt; font-weight: bold;")
        self.key_label.setWordWrap(True)
        outer.addWidget(self.key_label)
        self.fingerprint_label = QLabel()
        outer.addWidget(self.fingerprint_label)
        self.sheet_view = QLabel()
        self.sheet_view.setObjectName("recoverySheetPreview")
        self.sheet_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.sheet_view, 1)
        buttons = QHBoxLayout()
        self.print_button = QPushButton("打印恢复密钥单(&P)")
        self.save_button = QPushButton("另存为PDF(&S)…")
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        outer.addLayout(buttons)
        self.message = QLabel()
        self.message.setWordWrap(True)
        outer.addWidget(self.message)
        self.confirmed_box = QCheckBox(CONFIRM_TEXT)
        self.confirmed_box.setObjectName("recoveryKeyConfirmed")
        outer.addWidget(self.confirmed_box)
        self.confirmed_box.toggled.connect(lambda _on: self.completeChanged.emit())
        self.print_button.clicked.connect(self.print_sheet)
        self.save_button.clicked.connect(self._ask_and_save)

    # ---- the key ------------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt override
        if self.sheet is not None:
            return  # issued once per wizard: going back and forth never issues a second key
        from printing.recovery_sheet import render_recovery_sheet
        from ui.print_preview import render_pdf_pages

        self.sheet = self._issue()
        s = self.sheet
        self.sheet_pdf = render_recovery_sheet(key_text=s.key_text, qr_payload=s.qr_payload, center_code=s.center_code,
                                               window_no=s.window_no, fingerprint=s.fingerprint, issued_at=s.issued_at)
        self.key_label.setText(s.key_text)
        self.fingerprint_label.setText(f"恢复密钥指纹：{s.fingerprint}（生成时间 {s.issued_at}）")
        pages = render_pdf_pages(self.sheet_pdf, width_px=520, max_pages=1)
        if pages:
            self.sheet_view.setPixmap(QPixmap.fromImage(pages[0]))

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        return self.sheet is not None and self.confirmed_box.isChecked()

    @property
    def confirmed(self) -> bool:
        return self.isComplete()

    def forget(self) -> None:
        """The wizard is closing: the key leaves the widgets."""
        self.key_label.clear()
        self.sheet_view.clear()
        self.sheet_pdf = b""
        self.sheet = None

    # ---- print / save -------------------------------------------------------------------------
    def print_sheet(self) -> None:
        from ui.print_preview import PreviewError, print_pdf

        try:
            self.message.setText(print_pdf(self.sheet_pdf, None, title="恢复密钥单"))
        except PreviewError as exc:
            self.message.setText(f"{exc}；也可以“另存为PDF”到U盘后在其他电脑打印，或完整抄写。")

    def save_sheet(self, path: Path) -> None:
        """Private file (0600): it opens every case of this window."""
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
            fh.write(self.sheet_pdf)
        self.message.setText(f"恢复密钥单已保存：{path}。打印后请删除该文件。")

    def _ask_and_save(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "保存恢复密钥单", "恢复密钥单.pdf", "PDF (*.pdf)")
        if name:
            try:
                self.save_sheet(Path(name))
            except OSError as exc:
                self.message.setText(f"无法保存：{exc.strerror or exc}。请换一个位置（如U盘）。")
