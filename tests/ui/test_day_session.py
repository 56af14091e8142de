"""What must never end a clerk's session by surprise: Enter at login, cancelling an online
application, Ctrl+Q with the applicant's window open."""
from __future__ import annotations

import threading

import pytest

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from counter_app.cases import Actor
from tests.ui.conftest import PASSWORD
from ui.login_dialog import LoginDialog


def test_enter_at_login_logs_in_and_never_presses_quit(ctx, demo_window, operators, qtbot):
    """The fields go read-only during the check; the Enter that started it must not reach 退出."""
    from counter_app.security.access import authenticate

    release = threading.Event()

    def slow_authenticate(window, username, password):
        release.wait(10)  # the check is slow (scrypt): the dialog is busy meanwhile
        return authenticate(window, username, password)

    ctx.actor = None
    dialog = LoginDialog(ctx, authenticate=slow_authenticate)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    rejected = []
    dialog.rejected.connect(lambda: rejected.append(True))
    dialog.username.setText("clerk01")
    dialog.password.setFocus()
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert dialog.busy
    assert not rejected and dialog.isVisible()
    assert QApplication.focusWidget() is not dialog.quit_button
    # a second Enter while busy does nothing either
    qtbot.keyClick(QApplication.focusWidget() or dialog, Qt.Key.Key_Return)
    assert not rejected
    with qtbot.waitSignal(dialog.logged_in, timeout=10000):
        release.set()
    assert not rejected and ctx.actor.username == "clerk01"


def _online_entry(ctx, platform_id="HN-WL-0001", **applicant):
    import datetime as _dt

    from counter_app.application import application_to_dict
    from counter_app.sync.worklist import store_worklist
    from ui.acceptance.script import demo_application

    online = demo_application()
    a = online.applicant
    a.name, a.sex, a.birth_date, a.id_number = "赵振华", "男", "1985-06-12", "410702198506120039"
    for key, value in applicant.items():
        setattr(a, key, value)
    store_worklist(ctx.window, [{"platform_id": platform_id, "approved_on": _dt.date.today().isoformat(),
                                 "application": application_to_dict(online)}])
    return online


def test_cancelling_an_online_application_raises_nothing(ctx, demo_devices, main_window, qtbot, monkeypatch):
    """Esc → 是 on an acceptance from the worklist: the shell removes the widget at once, and the
    draft save answers after it is gone."""
    import sys

    from PySide6.QtCore import QCoreApplication, QEvent

    from ui.acceptance.script import AcceptanceScript

    errors = []
    monkeypatch.setattr(sys, "excepthook", lambda *exc: errors.append(exc))
    _online_entry(ctx)
    window = main_window(Actor("clerk01", "clerk"))
    window._open_acceptance({"worklist_id": "HN-WL-0001"})
    widget = window.acceptance
    script = AcceptanceScript(widget)
    script.ready()
    script.identity_from_card()
    script.next_step("items")
    script.idle()
    assert widget.session.case_id is not None
    widget._dirty = True
    qtbot.keyClick(widget, Qt.Key.Key_Escape)
    box = widget.findChild(QMessageBox, "cancelBox")
    saving = []
    widget.draft_saved.connect(lambda case_id: saving.append(case_id))
    box.button(QMessageBox.StandardButton.Yes).click()   # 是: the draft save is on its way
    assert window.acceptance is None
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)   # the widget is gone now
    qtbot.waitUntil(lambda: not ctx.tasks.db.busy, timeout=10000)     # ... and then the save answers
    QCoreApplication.processEvents()
    assert not saving
    assert not errors, errors


def test_ctrl_q_ends_the_program_with_the_applicant_window(ctx, main_window, qtbot):
    """Ctrl+Q closes the clerk's window and the applicant's, and asks the application to quit."""
    from ui.applicant_screen import applicant_screen_for

    window = main_window(Actor("clerk01", "clerk"))
    screen = applicant_screen_for(ctx)
    screen.show_welcome()
    screen.show()
    qtbot.waitUntil(screen.isVisible, timeout=5000)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window._closing_confirmed = False
    with qtbot.waitSignal(window.quit_requested, timeout=5000):
        qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()
    assert not screen.isVisible()
    ctx.applicant_screen = None
    screen.deleteLater()


def test_the_program_quits_when_the_main_window_says_so(tmp_path, app, monkeypatch):
    """The start-up wiring: the main window's quit request ends the Qt application's loop."""
    from ui.app import Startup

    quits = []
    monkeypatch.setattr(app, "quit", lambda: quits.append(True))
    startup = Startup(app, tmp_path, demo=True, show_errors=False)
    startup.main.quit_requested.emit()
    assert quits
    startup.main._closing_confirmed = True
    startup.main.close()
    startup.main.deleteLater()
    startup.ctx.tasks.shutdown()


def test_standard_buttons_and_dialogs_speak_chinese(app, qtbot):
    """Qt's own translations are loaded: a message box's standard buttons are not in English."""
    box = QMessageBox(QMessageBox.Icon.Question, "取消受理", "确定？",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    qtbot.addWidget(box)
    yes = box.button(QMessageBox.StandardButton.Yes).text().replace("&", "")
    no = box.button(QMessageBox.StandardButton.No).text().replace("&", "")
    assert yes.startswith("是") and no.startswith("否"), (yes, no)


@pytest.fixture(scope="module")
def form_pdf() -> bytes:
    import json
    from pathlib import Path

    from ui.acceptance.render_pool import render

    sample = Path(__file__).resolve().parents[1] / "data" / "sample_case.json"
    return render("printing.form", "render_application_form", json.loads(sample.read_text("utf-8"))).pdf


def test_one_monitor_the_applicant_window_fits_and_comes_forward_for_signing(ctx, qtbot, form_pdf):
    """One monitor: the window fits the screen with its title bar, is in front (maximised) while
    the applicant reads and signs, and the form is rendered at reading size (≥ 16 px body text);
    once signed, the clerk's screen is in front again."""
    from PySide6.QtGui import QGuiApplication

    from ui.acceptance.script import draw_on, signature_strokes
    from ui.applicant_screen import READABLE_PAGE_PX, ApplicantScreen

    screen = ApplicantScreen(ctx)
    qtbot.addWidget(screen)
    screen.place()
    area = QGuiApplication.primaryScreen().availableGeometry()
    assert screen.height() + 40 <= area.height()
    assert not screen.isMaximized()
    with qtbot.waitSignal(screen.form_shown, timeout=30000):
        screen.show_form(form_pdf, sign=True)
    assert screen.isMaximized()
    dpr = screen.devicePixelRatioF() or 1.0
    assert all(img.width() >= READABLE_PAGE_PX * dpr for img in screen.form_pages)
    assert 10.5 * READABLE_PAGE_PX / 595 >= 16      # the body text's pixel size at that width
    draw_on(screen.pad, signature_strokes())
    with qtbot.waitSignal(screen.signature_accepted, timeout=5000):
        screen.confirm_button.click()
    assert not screen.isMaximized()
