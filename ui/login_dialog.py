"""Login: operator name and password, checked by the security package off the GUI thread.

``counter_app.security.access.authenticate(window, username, password) -> Actor`` hashes the
password (deliberately slow) and records failed attempts / lockout in the database, so it runs
on ``ctx.tasks.db``. A refusal arrives as an exception with a Chinese ``message`` ("用户名或
密码错误，还可尝试N次" / "账户已锁定……") which is shown as it is.

Thread contract: GUI thread only; the only background work is the authenticate call.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget,
)

from ui.background import submit
from ui.context import AppContext
from ui.errors import user_message


def default_authenticate() -> Callable:
    """The security package's authenticate."""
    from counter_app.security.access import authenticate

    return authenticate


class LoginDialog(QDialog):
    """Emits ``logged_in(actor)`` and accepts when the operator is authenticated; ``ctx.actor``
    is set before either happens."""

    logged_in = Signal(object)

    def __init__(self, ctx: AppContext, *, settings=None, authenticate: Callable | None = None, username: str = "",
                 title: str = "登录", parent: QWidget | None = None):
        """``settings`` (config.toml's) is needed while ``ctx.window`` is still opening: the
        operator may type meanwhile; a login asked for before :meth:`services_ready` waits for it."""
        super().__init__(parent)
        self.ctx = ctx
        self._authenticate = authenticate
        self._pending = False
        self.setWindowTitle(f"{title} — 退役军人服务“一件事”综合受理窗口")
        self.setObjectName("loginDialog")
        self.setMinimumWidth(520)

        s = settings if settings is not None else ctx.window.settings
        heading = QLabel("退役军人服务“一件事”综合受理窗口")
        heading.setProperty("role", "title")
        place = QLabel(f"{s.center_name}　第{s.window_no}号窗口")
        place.setProperty("role", "subtitle")

        self.username = QLineEdit(username)
        self.username.setObjectName("username")
        self.username.setPlaceholderText("操作员账号")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("密码")
        form = QFormLayout()
        form.addRow("账号(&U)：", self.username)
        form.addRow("密码(&P)：", self.password)

        self.message = QLabel("")
        self.message.setObjectName("loginMessage")
        self.message.setProperty("role", "error")
        self.message.setWordWrap(True)

        self.login_button = QPushButton("登录(&L)")
        self.login_button.setObjectName("loginButton")
        self.login_button.setProperty("role", "primary")
        self.login_button.setDefault(True)
        self.quit_button = QPushButton("退出(&Q)")
        # Enter must never reach 退出: a focused push button in a dialog would take the Enter the
        # clerk pressed in the password field (the default-button rule), and the program would quit.
        self.quit_button.setAutoDefault(False)
        self.login_button.clicked.connect(self.try_login)
        self.quit_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.login_button)
        buttons.addWidget(self.quit_button)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(place)
        layout.addSpacing(8)
        layout.addLayout(form)
        layout.addWidget(self.message)
        if ctx.demo:
            password = ctx.hooks.demo_password
            password_hint = f"密码均为 {password}" if password else "密码见 README“演示”一节"
            hint = QLabel("演示模式：账号 clerk01（窗口工作人员）、supervisor01（审核负责人）、"
                          f"it01（系统管理员），{password_hint}。")
            hint.setProperty("role", "hint")
            hint.setWordWrap(True)
            layout.addWidget(hint)
            if not username:
                self.username.setText("clerk01")
        layout.addLayout(buttons)

        # Focus order follows the form: account, password, login, quit.
        QWidget.setTabOrder(self.username, self.password)
        QWidget.setTabOrder(self.password, self.login_button)
        QWidget.setTabOrder(self.login_button, self.quit_button)
        (self.password if self.username.text() else self.username).setFocus()  # OtherFocusReason
        self.username.returnPressed.connect(self.password.setFocus)
        self.password.returnPressed.connect(self.try_login)

    @property
    def busy(self) -> bool:
        return not self.login_button.isEnabled()

    @Slot()
    def try_login(self) -> None:
        if self.busy:
            return
        username = self.username.text().strip()
        password = self.password.text()
        if not username:
            self._fail_text("请输入操作员账号。", focus=self.username)
            return
        if not password:
            self._fail_text("请输入密码。", focus=self.password)
            return
        if self.ctx.window is None:  # the services are still opening: log in as soon as they are
            self._pending = True
            self._set_busy(True)
            self.message.setText("正在启动，请稍候……")
            return
        if self._authenticate is None:
            self._authenticate = default_authenticate()
        if getattr(self._authenticate, "missing", False):
            self._set_busy(False)
            self._fail_text("本机未安装登录校验模块，无法登录。请联系技术人员重新安装本程序。", focus=self.username)
            return
        self._set_busy(True)
        self.message.setText("正在验证……")
        submit(self.ctx.tasks.db, self._authenticate, self.ctx.window, username, password,
                              on_success=self._succeeded, on_failure=self._failed)

    def services_ready(self) -> None:
        """``ctx.window`` is open now; a login the operator already asked for goes ahead."""
        if self._pending:
            self._pending = False
            self._set_busy(False)
            self.try_login()

    def _set_busy(self, busy: bool) -> None:
        # The fields become read-only, not disabled: a disabled field loses the keyboard focus, which
        # then lands on the next button (退出), and the Enter still being handled would press it.
        for w in (self.username, self.password):
            w.setReadOnly(busy)
        self.login_button.setEnabled(not busy)

    def _succeeded(self, actor) -> None:
        self._set_busy(False)
        self.password.clear()
        self.message.setText("")
        self.ctx.actor = actor
        self.logged_in.emit(actor)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self._fail_text(user_message(exc, "登录"), focus=self.password)

    def _fail_text(self, text: str, *, focus: QLineEdit) -> None:
        self.message.setText(text)
        self.password.clear()
        focus.setFocus()  # OtherFocusReason
