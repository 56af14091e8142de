"""Login and its refusals, through the real security package (scrypt, lockout, audit)."""
from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.conftest import PASSWORD
from ui.login_dialog import LoginDialog


def _dialog(ctx, qtbot) -> LoginDialog:
    ctx.actor = None
    dialog = LoginDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _attempt(dialog: LoginDialog, qtbot, username: str, password: str) -> None:
    dialog.username.clear()
    qtbot.keyClicks(dialog.username, username)
    qtbot.keyClick(dialog.username, Qt.Key.Key_Return)  # moves to the password, as at the counter
    assert dialog.focusWidget() is dialog.password
    qtbot.keyClicks(dialog.password, password)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.busy and dialog.message.text() != "正在验证……", timeout=10000)


def test_login_succeeds_and_sets_the_operator(ctx, demo_window, operators, qtbot):
    dialog = _dialog(ctx, qtbot)
    with qtbot.waitSignal(dialog.logged_in, timeout=10000) as signal:
        qtbot.keyClicks(dialog.username, "supervisor01")
        qtbot.keyClick(dialog.username, Qt.Key.Key_Return)
        qtbot.keyClicks(dialog.password, PASSWORD)
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert signal.args[0].username == "supervisor01"
    assert ctx.actor.username == "supervisor01" and ctx.actor.role == "supervisor"
    assert dialog.result() == LoginDialog.DialogCode.Accepted
    assert dialog.password.text() == ""  # the password does not linger in the widget


def test_wrong_password_says_so_in_chinese_and_keeps_the_account(ctx, demo_window, operators, qtbot):
    dialog = _dialog(ctx, qtbot)
    _attempt(dialog, qtbot, "clerk01", "not-the-password-1")
    text = dialog.message.text()
    assert "用户名或密码错误" in text
    assert "再错" in text  # tells the clerk how many tries are left
    assert "Traceback" not in text and "Error" not in text
    assert ctx.actor is None
    assert dialog.username.text() == "clerk01" and dialog.password.text() == ""
    assert dialog.focusWidget() is dialog.password


def test_lockout_after_repeated_failures_refuses_even_the_right_password(ctx, demo_window, operators, qtbot):
    ctx.window.settings.set("lockout_attempts", 3)
    ctx.window.settings.set("lockout_minutes", 15)
    dialog = _dialog(ctx, qtbot)
    _attempt(dialog, qtbot, "clerk01", "wrong-zero-00")
    _attempt(dialog, qtbot, "clerk01", "wrong-one-11")
    _attempt(dialog, qtbot, "clerk01", "wrong-two-22")
    assert "锁定" in dialog.message.text() and "15分钟" in dialog.message.text()
    _attempt(dialog, qtbot, "clerk01", PASSWORD)
    assert dialog.message.text().startswith("账户已锁定")
    assert ctx.actor is None


def test_empty_fields_are_caught_before_asking_the_database(ctx, qtbot):
    dialog = _dialog(ctx, qtbot)
    dialog.username.clear()
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text() == "请输入操作员账号。"
    assert not ctx.tasks.busy
    qtbot.keyClicks(dialog.username, "clerk01")
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text() == "请输入密码。"
