"""The main window: keyboard paths, pages by role, the acceptance page, 1366×768, fonts ≥ 14 px."""
from __future__ import annotations

import datetime as _dt

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontInfo
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox, QWidget
from sqlalchemy import update

from counter_app.store.models import OutboxEntry
from ui.main_window import MainWindow


def _press(main: MainWindow, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(main, key, modifier)


def test_every_menu_action_has_a_keyboard_path(ctx, main_window):
    main = main_window()
    for menu_action in main.menuBar().actions():
        assert "&" in menu_action.text(), menu_action.text()  # Alt+letter opens the menu
        for action in menu_action.menu().actions():
            if action.isSeparator() or action.menu() is not None:
                continue
            assert "&" in action.text() or not action.shortcut().isEmpty(), action.text()
    shortcuts = {a.objectName(): a.shortcut().toString() for a in main._actions}
    assert shortcuts["actNew"] == "F2" and shortcuts["actFind"] == "F3" and shortcuts["actLock"] == "Ctrl+L"


def test_f_keys_move_between_worklist_detail_and_acceptance(ctx, scene, main_window, qtbot):
    main = main_window()
    qtbot.waitUntil(lambda: main.worklist.model.rowCount() > 0, timeout=10000)
    row = next(i for i, r in enumerate(main.worklist.model.rows) if r.key == scene.overdue_id)
    main.worklist.table.selectRow(row)
    with qtbot.waitSignal(main.detail.loaded, timeout=10000):
        QTest.keyClick(main.worklist.table, Qt.Key.Key_Return)
    assert main.current_page() is main.detail and main.detail.detail.id == scene.overdue_id
    QTest.keyClick(main.detail.tabs, Qt.Key.Key_Escape)
    assert main.current_page() is main.worklist

    _press(main, Qt.Key.Key_F3)
    assert main.worklist.focusWidget() is main.worklist.search or main.focusWidget() is main.worklist.search

    _press(main, Qt.Key.Key_F2)  # new walk-in: the sync rule is asked first, off the GUI thread
    qtbot.waitUntil(lambda: main.acceptance is not None, timeout=10000)
    assert main.current_page() is main.acceptance_host
    # F5–F8 belong to the stepper on this page: the window's own F5–F8 stand aside.
    assert not main.act_refresh.isEnabled() and not main.act_sync.isEnabled()
    widget = main.acceptance
    _press(main, Qt.Key.Key_F2)  # a second F2 does not start another acceptance
    assert main.acceptance is widget
    widget.cancelled.emit()
    assert main.acceptance is None and main.current_page() is main.worklist
    assert main.act_refresh.isEnabled()

    draft = scene.draft_ids[0]
    main.open_case(draft, "draft")  # a draft reopens in the acceptance workflow
    assert main.acceptance is not None
    main.acceptance.finished.emit(draft)
    assert main.acceptance is None and main.current_page() is main.worklist


def test_a_stale_queue_stops_new_acceptances_with_the_reason(ctx, scene, main_window, qtbot):
    window = ctx.window
    window.settings.set("stale_block_days", 1)
    with window.sessions.begin() as s:  # the oldest waiting case has not reached the platform for 4 days
        s.execute(update(OutboxEntry).where(OutboxEntry.case_id == scene.today_ids[0]).values(
            created_at=_dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(days=4)))
    main = main_window()
    _press(main, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: main.findChild(QMessageBox, "infoBox") is not None, timeout=10000)
    box = main.findChild(QMessageBox, "infoBox")
    assert "暂时不能受理新办件" in box.text() and "滞留" in box.text()
    assert main.acceptance is None
    main.open_case(scene.draft_ids[0], "draft")  # continuing a draft is still allowed
    assert main.acceptance is not None


def test_pages_follow_the_role(ctx, main_window, qtbot):
    from counter_app.cases import Actor

    clerk = main_window(Actor("clerk01", "clerk"))
    assert clerk.supervisor is None and clerk.settings_page is None
    assert not clerk.act_supervisor.isEnabled() and not clerk.act_settings.isEnabled()

    supervisor = main_window(Actor("supervisor01", "supervisor"))
    _press(supervisor, Qt.Key.Key_F6)
    assert supervisor.current_page() is supervisor.supervisor

    it = main_window(Actor("it01", "it_admin"))
    assert it.current_page() is it.settings_page  # IT does not handle cases
    assert not it.act_new.isEnabled()
    _press(it, Qt.Key.Key_F2)
    assert it.acceptance is None


def test_fits_1366_by_768_with_fonts_of_at_least_14_px(ctx, scene, main_window, qtbot):
    from counter_app.cases import Actor

    for actor in (Actor("clerk01", "clerk"), Actor("supervisor01", "supervisor"), Actor("it01", "it_admin")):
        main = main_window(actor)
        hint = main.minimumSizeHint()
        assert hint.width() <= 1366 and hint.height() <= 768, (actor.role, hint)
        for i in range(main.stack.count()):
            page = main.stack.widget(i)
            assert page.minimumSizeHint().width() <= 1366, page.objectName()
        for w in [main, *main.findChildren(QWidget)]:
            if w.isVisible():
                assert QFontInfo(w.font()).pixelSize() >= 14, (w.objectName() or type(w).__name__)
        assert main.size().width() == 1366 and main.size().height() == 768


def test_the_platforms_worklist_merges_into_the_shown_list_when_it_arrives(ctx, scene, main_window, qtbot):
    """A sync round stores the platform's online applications and says so (``pulled_at``): the
    list on screen reloads at once, even right after the previous automatic reload."""
    from counter_app.sync.status import SyncStatus
    from counter_app.sync.worklist import store_worklist

    main = main_window()
    qtbot.waitUntil(lambda: main.worklist.model.rowCount() > 0 and not main.worklist.loading, timeout=10000)
    with qtbot.waitSignal(main.worklist.loaded, timeout=10000):
        main._sync_status_arrived(SyncStatus(online=True))  # the first status of the round: reloads
    store_worklist(ctx.window, [{"platform_id": "WL-NEW", "approved_on": "2026-12-07",
                                 "application": {"applicant": {"name": "钱多多", "id_number": "110101199003074514"},
                                                 "items": [1]}}])
    pulled = _dt.datetime.now(_dt.timezone.utc)
    with qtbot.waitSignal(main.worklist.loaded, timeout=10000):
        main._sync_status_arrived(SyncStatus(online=True, pulled_at=pulled))
    assert "WL-NEW" in [r.key for r in main.worklist.model.rows]
    with qtbot.assertNotEmitted(main.worklist.loaded, wait=200):  # the same pull again: no reload
        main._sync_status_arrived(SyncStatus(online=True, pulled_at=pulled))
