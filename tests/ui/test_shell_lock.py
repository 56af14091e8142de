"""Idle lock: it triggers after the idle time, input postpones it, unlocking needs the password,
and what was typed underneath survives."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from counter_app.store.models import AuditEntry
from tests.ui.conftest import PASSWORD
from ui.lock_screen import IdleWatch


def test_idle_time_locks_the_window_and_hides_its_contents(ctx, demo_window, operators, main_window, qtbot):
    main = main_window(operators["clerk01"], idle_timeout_ms=300, open_session=True)
    qtbot.waitUntil(lambda: main.locked, timeout=5000)
    assert main.lock_screen.geometry() == main.rect()
    assert not main.stack.isEnabled() and not main.menuBar().isEnabled()
    assert not main.act_new.isEnabled()  # F2 does nothing while locked
    main.act_new.trigger()
    assert main.acceptance is None
    assert "clerk01" in main.lock_screen.who.text()
    qtbot.waitUntil(lambda: _audited(ctx.window, "idle_lock"), timeout=5000)


def _audited(window, action: str) -> bool:
    with window.sessions() as s:
        return s.execute(select(AuditEntry).where(AuditEntry.action == action)).first() is not None


def test_input_restarts_the_idle_timer(app, qtbot):
    import time

    from PySide6.QtWidgets import QLineEdit

    field = QLineEdit()
    qtbot.addWidget(field)
    field.show()
    watch = IdleWatch(800)
    fired: list[float] = []
    watch.idle.connect(lambda: fired.append(time.monotonic()))  # emitted on the GUI thread
    started = time.monotonic()
    watch.install(QApplication.instance())
    try:
        # Half-way through the idle time the clerk types: the count starts again from zero.
        qtbot.waitUntil(lambda: time.monotonic() - started > 0.5, timeout=5000)
        typed_at = time.monotonic()
        qtbot.keyClick(field, Qt.Key.Key_A)
        qtbot.waitUntil(lambda: bool(fired), timeout=5000)
    finally:
        watch.uninstall()
    assert fired[0] - typed_at >= 0.75  # not 0.3 s after typing, as without the restart
    assert field.text() == "a"  # the filter only watches; the key still arrives
    assert len(fired) == 1 and not watch.active


def test_unlock_needs_the_password_and_keeps_what_was_typed(ctx, demo_window, operators, main_window, qtbot):
    main = main_window(operators["clerk01"], open_session=True)
    main.worklist.search.setText("410702")  # half-typed when the clerk walked away
    main.lock()
    screen = main.lock_screen
    assert screen.isVisible()

    qtbot.keyClicks(screen.password, "wrong-password-9")
    qtbot.keyClick(screen.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.unlock_button.isEnabled(), timeout=10000)
    assert "用户名或密码错误" in screen.message.text()
    assert main.locked

    with qtbot.waitSignal(screen.unlocked, timeout=10000):
        qtbot.keyClicks(screen.password, PASSWORD)
        qtbot.keyClick(screen.password, Qt.Key.Key_Return)
    assert not main.locked and main.stack.isEnabled() and main.act_new.isEnabled()
    assert main.worklist.search.text() == "410702"
    assert main.idle.active


def test_logout_from_the_lock_screen(ctx, demo_window, operators, main_window, qtbot):
    main = main_window(operators["clerk01"], open_session=True)
    main.lock()
    with qtbot.waitSignal(main.logout_requested, timeout=5000):
        qtbot.mouseClick(main.lock_screen.logout_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _audited(ctx.window, "logout"), timeout=5000)


def test_the_cover_follows_the_window_while_locked(ctx, demo_window, operators, main_window, qtbot):
    main = main_window(operators["clerk01"], open_session=True)
    main.resize(1100, 700)
    main.lock()
    main.resize(1300, 760)
    qtbot.waitUntil(lambda: main.lock_screen.geometry() == main.rect(), timeout=5000)
    assert main.rect().width() == 1300  # the window really changed size, and the cover with it


def test_the_idle_count_starts_with_the_session(ctx, demo_window, operators, main_window, qtbot):
    main = main_window(operators["clerk01"], idle_timeout_ms=60_000, open_session=True)
    # installed on the event loop's next turn after the first page (not before it is shown)
    qtbot.waitUntil(lambda: main.idle.installed and main.idle.active, timeout=5000)
    main.logout()
    assert not main.idle.installed and not main.idle.active


def test_the_cover_is_built_at_the_first_lock(ctx, demo_window, operators, main_window, qtbot):
    from ui.lock_screen import LockScreen

    main = main_window(operators["clerk01"], open_session=True)
    assert main.findChildren(LockScreen) == [] and not main.locked  # nothing to style before the first page
    main.lock()
    assert main.findChildren(LockScreen) == [main.lock_screen] and main.locked
    assert main.lock_screen.geometry() == main.rect() and main.lock_screen.isVisible()
