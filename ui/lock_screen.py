"""Idle lock: after ``settings.idle_lock_minutes`` without keyboard or mouse input the main window
is covered and asks the operator's password again.

- :class:`IdleWatch` is an event filter on the QApplication: every key, click, wheel or touch
  anywhere in the application restarts one single-shot timer; when it runs out, ``idle`` is
  emitted. (Mouse *moves* count too, so a clerk reading a long list with the mouse is not locked.)
- :class:`LockScreen` is an opaque overlay over the main window's contents, so personal data on
  screen is hidden while nothing underneath is closed: a half-typed acceptance survives the
  lock untouched. Unlocking is the security package's ``OperatorSession.unlock`` (same operator's
  password; failures count towards the account lockout), run on ``ctx.tasks.db``. When the
  operator cannot unlock (forgot the password, account locked), 退出登录 ends the session.

Thread contract: GUI thread only.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

# ``Qt`` where used: the idle watch is built on the start path (see ui.app.ensure_application).
from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from ui.background import submit
from ui.context import AppContext
from ui.errors import user_message
from ui.permissions import role_title

if TYPE_CHECKING:
    from PySide6.QtCore import QEvent


def _activity() -> frozenset:
    """The input events that count as activity; built at the first event seen (not at import:
    QEvent's type, with its ~180-member enum, is not needed before the first page is up)."""
    global _ACTIVITY
    if _ACTIVITY is None:
        from PySide6.QtCore import QEvent

        _ACTIVITY = frozenset({
            QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick,
            QEvent.Type.MouseMove, QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate,
            QEvent.Type.TabletPress, QEvent.Type.ShortcutOverride,
        })
    return _ACTIVITY


_ACTIVITY: frozenset | None = None


class IdleWatch(QObject):
    """Emits ``idle`` once after ``timeout_ms`` without user input; restarts on any input."""

    idle = Signal()

    def __init__(self, timeout_ms: int, parent: QObject | None = None):
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(max(1, int(timeout_ms)))
        self._timer.timeout.connect(self.idle)
        self._installed_on: QObject | None = None

    @classmethod
    def from_minutes(cls, minutes: int, parent: QObject | None = None) -> "IdleWatch":
        # 0 minutes means "never lock" (a supervised training room); keep the timer stopped.
        watch = cls(max(1, minutes) * 60_000, parent)
        watch.enabled = minutes > 0
        return watch

    enabled = True

    @property
    def timeout_ms(self) -> int:
        return self._timer.interval()

    def set_timeout_ms(self, ms: int) -> None:
        self._timer.setInterval(max(1, int(ms)))
        if self._timer.isActive():
            self._timer.start()

    def install(self, target: QObject) -> None:
        """Watch ``target`` (normally the QApplication) and start counting."""
        target.installEventFilter(self)
        self._installed_on = target
        self.resume()

    def uninstall(self) -> None:
        if self._installed_on is not None:
            self._installed_on.removeEventFilter(self)
            self._installed_on = None
        self._timer.stop()

    def suspend(self) -> None:
        """Stop counting (while the lock screen is up)."""
        self._timer.stop()

    def resume(self) -> None:
        if self.enabled:
            self._timer.start()

    @property
    def installed(self) -> bool:
        return self._installed_on is not None

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() in _activity() and self._timer.isActive():
            self._timer.start()  # restart from zero
        return False


class LockScreen(QWidget):
    """An opaque cover over ``parent``'s whole area; ``unlocked`` when the password is right."""

    unlocked = Signal()
    logout_requested = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget, *, unlock: Callable[[str], object] | None = None):
        """``unlock(password)`` runs on ``ctx.tasks.db`` and raises (Chinese ``message``) when the
        password is wrong; default: authenticate the context's actor again."""
        from PySide6.QtCore import Qt

        super().__init__(parent)
        self.ctx = ctx
        self._unlock = unlock
        self.setObjectName("lockScreen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setAutoFillBackground(True)

        self.title = QLabel("屏幕已锁定")
        self.title.setProperty("role", "title")
        self.who = QLabel("")
        self.who.setProperty("role", "subtitle")
        self.reason = QLabel("长时间无操作，为保护申请人信息已自动锁屏。正在办理的内容已保留。")
        self.reason.setWordWrap(True)
        self.password = QLineEdit()
        self.password.setObjectName("unlockPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("请输入本操作员密码")
        self.unlock_button = QPushButton("解锁(&U)")
        self.unlock_button.setObjectName("unlockButton")
        self.unlock_button.setProperty("role", "primary")
        self.message = QLabel("")
        self.message.setObjectName("unlockMessage")
        self.message.setProperty("role", "error")
        self.message.setWordWrap(True)
        self.logout_button = QPushButton("退出登录(&O)")
        self.logout_button.setObjectName("lockLogoutButton")
        self.logout_button.setToolTip("换其他工作人员登录。未提交的受理内容已保存为草稿，可在工作台找回。")
        self.password.returnPressed.connect(self.try_unlock)
        self.unlock_button.clicked.connect(self.try_unlock)
        self.logout_button.clicked.connect(self.logout_requested)

        row = QHBoxLayout()
        row.addWidget(self.password, 1)
        row.addWidget(self.unlock_button)
        row.addWidget(self.logout_button)
        box = QVBoxLayout()
        box.addWidget(self.title)
        box.addWidget(self.who)
        box.addWidget(self.reason)
        box.addLayout(row)
        box.addWidget(self.message)
        inner = QWidget()
        inner.setLayout(box)
        inner.setMinimumWidth(600)
        inner.setMaximumWidth(720)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(inner, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.hide()

    def set_unlock(self, unlock: Callable[[str], object] | None) -> None:
        """The operator session's unlock (None: authenticate the operator again)."""
        self._unlock = unlock

    # The cover follows the window's size only while it is shown: a filter on the main window
    # the rest of the time would take every one of its events through Python.
    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.parentWidget().installEventFilter(self)
        super().showEvent(event)

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.parentWidget().removeEventFilter(self)
        super().hideEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        from PySide6.QtCore import QEvent

        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize and self.isVisible():
            self.setGeometry(self.parentWidget().rect())
        return False

    def lock(self) -> None:
        actor = self.ctx.actor
        if actor is not None:
            self.who.setText(f"操作员：{actor.username}（{role_title(actor.role)}）")
        self.message.setText("")
        self.password.clear()
        self.password.setEnabled(True)
        self.unlock_button.setEnabled(True)
        self.setGeometry(self.parentWidget().rect())
        self.show()
        self.raise_()
        self.password.setFocus()  # OtherFocusReason

    @property
    def locked(self) -> bool:
        return self.isVisible()

    @Slot()
    def try_unlock(self) -> None:
        if not self.unlock_button.isEnabled() or self.ctx.actor is None:
            return
        password = self.password.text()
        if not password:
            self.message.setText("请输入密码。")
            return
        self.password.setEnabled(False)
        self.unlock_button.setEnabled(False)
        self.message.setText("正在验证……")
        if self._unlock is not None:
            submit(self.ctx.tasks.db, self._unlock, password, on_success=self._succeeded, on_failure=self._failed)
        else:  # no operator session: authenticate the same operator again
            from ui.login_dialog import default_authenticate  # the login dialog's module: not on the start path

            submit(self.ctx.tasks.db, default_authenticate(), self.ctx.window, self.ctx.actor.username, password,
                   on_success=self._succeeded, on_failure=self._failed)

    def _succeeded(self, _result) -> None:
        self.password.clear()
        self.hide()
        self.unlocked.emit()

    def _failed(self, exc: BaseException) -> None:
        from counter_app.cases import AccessDenied

        if isinstance(exc, AccessDenied):  # the role changed while locked: the session is over
            self.message.setText(user_message(exc, "解锁"))
            self.logout_requested.emit()
            return
        self.password.setEnabled(True)
        self.unlock_button.setEnabled(True)
        self.password.clear()
        self.message.setText(user_message(exc, "解锁"))
        self.password.setFocus()  # OtherFocusReason
