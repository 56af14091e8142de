"""The "电子签章" part of the IT settings page: the key's state, the PIN, and the self-test.

Where the key is (PKCS#12 file or PKCS#11 token: library, slot, labels, trust root, time-stamp
URL) is edited with the other settings (``signing_*`` in ``counter_app.config.SPECS``); this
panel adds what is not a setting. The PIN goes to the signing service's memory only: it is
never saved, never shown back, and the field is cleared as soon as it was handed over.

``ctx.signing`` is the application layer's signing service (lent through ``AppHooks``); this
module never imports it. Its ``unlock`` and ``self_test`` return an outcome (``ok``, ``message``,
``details``) and touch the token, so they run on ``ctx.tasks.io``.

Thread contract: GUI thread; the work functions below run on the io worker and touch no widget.
"""
from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from ui.background import submit
from ui.context import AppContext
from ui.errors import user_message


def _unlock(signing, pin: str):  # noqa: ANN001 - io worker
    return signing.unlock(pin)


def _self_test(signing):  # noqa: ANN001 - io worker
    return signing.self_test()


def _state(signing) -> str:  # noqa: ANN001 - db worker
    return signing.describe() + "\n" + signing.status_text()


class SigningPanel(QWidget):
    finished = Signal(str)  # the sentence shown after unlock / self-test / refresh

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("signingPanel")
        self.state = QLabel("")
        self.state.setObjectName("signingState")
        self.state.setWordWrap(True)
        self.pin = QLineEdit()
        self.pin.setObjectName("signingPin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("UKey的PIN码或证书文件密码（只保存在本次运行的内存中）")
        self.unlock_button = QPushButton("解锁签章密钥(&U)")
        self.unlock_button.setObjectName("signingUnlock")
        self.selftest_button = QPushButton("签章自检(&K)")
        self.selftest_button.setObjectName("signingSelftest")
        self.result = QLabel("")
        self.result.setObjectName("signingResult")
        self.result.setWordWrap(True)
        hint = QLabel("保存上方设置后再解锁。自检会用配置的密钥签一张不含个人信息的样张，"
                      "再用两套独立程序（pyHanko、poppler pdfsig）按信任根核验。"
                      "密钥不可用时受理照常进行，文件排队，密钥恢复后自动补签。")
        hint.setWordWrap(True)
        hint.setProperty("role", "hint")
        row = QHBoxLayout()
        row.addWidget(self.pin, 1)
        row.addWidget(self.unlock_button)
        row.addWidget(self.selftest_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self.state)
        layout.addLayout(row)
        layout.addWidget(self.result)
        layout.addWidget(hint)
        self.unlock_button.clicked.connect(self.unlock)
        self.pin.returnPressed.connect(self.unlock)
        self.selftest_button.clicked.connect(self.self_test)
        available = ctx.signing is not None
        for w in (self.pin, self.unlock_button, self.selftest_button):
            w.setEnabled(available)
        if not available:
            self.state.setText("本程序未带电子签章模块。")

    @Slot()
    def refresh(self) -> None:
        if self.ctx.signing is not None:
            submit(self.ctx.tasks.db, _state, self.ctx.signing, on_success=self._show_state,
                   on_failure=self._state_failed)

    def _show_state(self, text: str) -> None:
        self.state.setText(text)

    def _state_failed(self, exc: BaseException) -> None:
        self.state.setText(user_message(exc, "读取签章状态"))

    @Slot()
    def unlock(self) -> None:
        pin = self.pin.text()
        self.pin.clear()
        if not pin:
            self._show_text("请输入PIN码（或证书文件密码）。")
            return
        self.unlock_button.setEnabled(False)
        self.result.setText("正在打开签章密钥……")
        submit(self.ctx.tasks.io, _unlock, self.ctx.signing, pin, on_success=self._show, on_failure=self._failed)

    @Slot()
    def self_test(self) -> None:
        self.selftest_button.setEnabled(False)
        self.result.setText("正在签名样张并核验……")
        submit(self.ctx.tasks.io, _self_test, self.ctx.signing, on_success=self._show, on_failure=self._failed)

    def _show(self, outcome) -> None:  # noqa: ANN001 - app.signing.service.Outcome
        self._show_text("\n".join([outcome.message, *outcome.details]))

    def _failed(self, exc: BaseException) -> None:
        self._show_text(user_message(exc, "签章"))

    def _show_text(self, text: str) -> None:
        self.unlock_button.setEnabled(True)
        self.selftest_button.setEnabled(True)
        self.result.setText(text)
        self.refresh()
        self.finished.emit(text)
