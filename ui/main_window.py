"""The main window: pages in a stack (worklist, case detail, acceptance, supervisor, settings),
menus with a shortcut for every action, the shared status bar, and the idle lock.

The window only routes: each page is its own widget with its own file and receives the
``AppContext``. The acceptance workflow (``ui.acceptance.AcceptanceWidget``, the acceptance
widget) is created per case and removed when it emits ``finished`` or ``cancelled``; how it is
opened (walk-in, claimed online application, draft) is ``ui.acceptance_routing``.

Keyboard map (also under 帮助 → 快捷键, F1):
F2 新建受理 · F3 查找 · F4 工作台 · F5 刷新 · F6 当日概况 · F7 系统设置 · F8 立即同步 ·
Enter 打开所选办件 · Esc 从办件详情返回 · Ctrl+L 锁屏 · Ctrl+Q 退出 · 演示模式 F11 放置身份证 / Shift+F11 取走.
On the acceptance page F5–F9, Esc and Ctrl+1…9 are the stepper's: the window's F5–F8 actions
are disabled there so the keys are never ambiguous.

Thread contract: GUI thread only.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

# ``Qt`` itself is imported where used, off the start path: see ``ui.app.ensure_application``.
from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QLabel, QMainWindow, QStackedWidget, QWidget,
)

from ui.acceptance_routing import AcceptanceRouting
from ui.background import submit
from ui.context import AppContext
from ui.errors import show_info
from ui.lock_screen import IdleWatch, LockScreen
from ui.permissions import role_title
from ui.main_menus import SHORTCUT_HELP, build_menus
from ui.shell_jobs import confirm_recovered, record_lock, recovered_case_numbers
from ui.shortcuts import shortcut
from ui.status_bar import CounterStatusBar

if TYPE_CHECKING:  # not imported at start: their Qt types (with their enums) are built when first used
    from PySide6.QtGui import QCloseEvent

    from ui.acceptance import AcceptanceWidget

log = logging.getLogger(__name__)

APP_TITLE = "退役军人服务“一件事”综合受理窗口"


class MainWindow(QMainWindow, AcceptanceRouting):
    """Built in three phases, so the window is on screen and answering before the core loads:

    1. construction: title, menus, toolbar, status bar and a welcome page, from the settings
       alone (``config.toml``, read without the database);
    2. :meth:`services_ready`: ``ctx.window`` is open (the sync bridge and device hub exist);
    3. :meth:`start_session`: an operator logged in (``ctx.actor``): the pages for that role.
       :meth:`end_session` (logout) removes them again.

    When ``ctx.window`` and ``ctx.actor`` are already set, all three happen in the constructor.
    """

    logout_requested = Signal()
    session_started = Signal()
    quit_requested = Signal()   # the clerk quit (Ctrl+Q, 退出程序, the close box): the whole program ends

    def __init__(self, ctx: AppContext, *, settings=None, idle_timeout_ms: int | None = None,
                 open_session: bool = True, parent: QWidget | None = None):
        """``settings`` is needed only while ``ctx.window`` is not open yet;
        ``idle_timeout_ms`` overrides ``settings.idle_lock_minutes`` (tests, screenshots);
        ``open_session=False`` skips the security package's OperatorSession (no audit entries
        for lock/logout; unlocking then re-authenticates the operator)."""
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("mainWindow")
        self.settings = settings if settings is not None else ctx.window.settings
        self.setWindowTitle(f"{APP_TITLE} — {self.settings.center_name} 第{self.settings.window_no}号窗口")
        self.setMinimumSize(1024, 640)
        self._open_session_enabled = open_session
        self._idle_timeout_ms = idle_timeout_ms
        self.session = None
        self._closing_confirmed = False
        self._services = False
        self.may_handle = self.may_supervise = self.may_configure = False
        self._detail = None
        self.worklist = self.detail = self.supervisor = self.settings_page = None
        self.acceptance: "AcceptanceWidget | None" = None
        self._claiming: str | None = None  # the online application being claimed on the platform
        self.demo_cards_menu = None
        self._peripherals = False
        self._enabled_before_lock: dict = {}
        self.acceptance_host = None
        self._lock_screen: LockScreen | None = None  # built at the first lock (:attr:`lock_screen`)
        self._unlock_with = None  # the operator session's unlock, handed to the lock screen
        self._built = False  # pages may change before the constructor is through
        self._pages: list[QWidget] = []
        self._last_auto_refresh = 0.0
        self._pull_shown = None  # the platform pull (SyncStatus.pulled_at) the worklist last reloaded for

        self.stack = QStackedWidget()
        self.stack.setObjectName("pages")
        self.welcome = QLabel("正在打开本窗口的数据……")
        self.welcome.setObjectName("welcomePage")
        self.welcome.setProperty("role", "subtitle")  # centred by the style sheet (#welcomePage)
        self.stack.addWidget(self.welcome)
        self.setCentralWidget(self.stack)
        self.stack.currentChanged.connect(self._page_changed)

        self.status = CounterStatusBar(stale_warn_minutes=self.settings.stale_warn_minutes)
        self.setStatusBar(self.status)

        self._actions: list[QAction] = []
        self._build_menus()
        self._apply_permissions()

        self._built = True
        minutes_ms = max(1, self.settings.idle_lock_minutes) * 60_000
        self.idle = IdleWatch(idle_timeout_ms if idle_timeout_ms is not None else minutes_ms, self)
        self.idle.enabled = idle_timeout_ms is not None or self.settings.idle_lock_minutes > 0
        self.idle.idle.connect(self.lock)

        if ctx.window is not None:
            self.services_ready()

    # ---- phases --------------------------------------------------------------------------------
    @property
    def in_session(self) -> bool:
        return bool(self._pages)

    def services_ready(self) -> None:
        """``ctx.window`` is open (the database, the case service). GUI thread."""
        if self._services:
            return
        self._services = True
        self.settings = self.ctx.window.settings
        if self.ctx.sync is not None or self.ctx.devices is not None:
            self.peripherals_ready()
        self.welcome.setText("请登录")
        if self.in_session:  # the operator was known at start: the pages that need the services now
            self._start_services_part()
        damage = self.ctx.window.damage
        if damage:
            # A damaged store opens read-only: said at once and kept in view, not at the first refused save.
            self.welcome.setWordWrap(True)
            self.welcome.setText("请登录\n\n" + damage)
            self.statusBar().showMessage("数据库只读：" + damage)
        if self.ctx.actor is not None:
            self.start_session()

    def peripherals_ready(self) -> None:
        """The sync bridge and the device hub exist (they start just after the services)."""
        ctx = self.ctx
        if self._peripherals:
            return
        self._peripherals = True
        if ctx.sync is not None:
            ctx.sync.status_changed.connect(self.status.show_sync_status)
            ctx.sync.status_changed.connect(self._sync_status_arrived)
            if ctx.sync.last_status is not None:
                self.status.show_sync_status(ctx.sync.last_status)
        else:
            self.status.platform_label.setText("省平台：未启用同步")
        if ctx.devices is not None:
            ctx.devices.states_changed.connect(self.status.show_devices)
            if ctx.devices.states:
                self.status.show_devices(ctx.devices.states)
        self._fill_demo_cards()
        self._apply_permissions()

    def _fill_demo_cards(self) -> None:
        menu = self.demo_cards_menu
        devices = self.ctx.devices
        if menu is None or devices is None:
            return
        try:
            names = list(devices.demo_card_names())
        except Exception:
            log.exception("读取演示证件列表失败")
            return
        for name in names:
            action = menu.addAction(name)
            action.setData(name)
            action.triggered.connect(self._place_named_card)
        menu.setEnabled(bool(names))

    def start_session(self) -> None:
        """The operator in ``ctx.actor`` logged in: build the pages their role may use.

        An operator known before the services opened (``Startup`` with an actor) gets the
        worklist at once, as the store held it (:meth:`ui.worklist.WorklistPage.show_stored`);
        what needs the open services follows in :meth:`services_ready`."""
        if self.in_session or self.ctx.actor is None:
            return
        # The pages are imported here, not at the top: the window itself must come up fast. The
        # case detail page is built when first shown (:attr:`detail`): the worklist comes first.
        from ui.permissions import allowed
        from ui.worklist import WorklistPage

        ctx = self.ctx
        actor = ctx.actor
        self.may_handle = allowed(actor, "HANDLE_CASE")
        self.may_supervise = allowed(actor, "APPROVE_CORRECTION")
        self.may_configure = allowed(actor, "CHANGE_SETTINGS")
        self.status.set_operator(f"操作员：{actor.username}（{role_title(actor.role)}）")

        self.worklist = WorklistPage(ctx)
        self.acceptance_host = QStackedWidget()
        self.acceptance_host.setObjectName("acceptanceHost")
        self._pages = [self.worklist, self.acceptance_host]
        for page in self._pages:
            self.stack.addWidget(page)
        self.worklist.open_online.connect(self.open_online_application)
        self.worklist.open_case.connect(self.open_case)
        self.worklist.new_walk_in.connect(self.start_walk_in)
        # The idle lock's filter sees every event of the application from Python, and wrapping each
        # object it sees builds Python types (and their enums) the first page never needs, ~5 ms
        # at the first events: installed on the next turn of the event loop, once the first page
        # is up, it does not hold that page up. Idle minutes then count from a few ms later.
        QTimer.singleShot(0, self, self._watch_idle)  # not called once the window is gone
        if self.may_handle:
            self.show_worklist()
        if self._services:
            self._start_services_part()
        else:
            self._apply_permissions()
        self.session_started.emit()

    @Slot()
    def _watch_idle(self) -> None:
        """Start the idle lock's count for the session (scheduled by :meth:`start_session`)."""
        if self.in_session and not self.idle.installed:
            self.idle.install(QApplication.instance())

    @property
    def detail(self):
        """The case detail page, built the first time it is asked for in a session."""
        if self._detail is None and self.in_session:
            from PySide6.QtCore import Qt

            from ui.case_detail import CaseDetailPage

            self._detail = CaseDetailPage(self.ctx)
            self._pages.append(self._detail)
            self.stack.addWidget(self._detail)
            self._detail.back.connect(self.show_worklist)
            self._detail.correction_started.connect(self.open_draft)
            shortcut(QKeySequence(Qt.Key.Key_Escape), self._detail, self.show_worklist,
                     Qt.ShortcutContext.WidgetWithChildrenShortcut)
        return self._detail

    @detail.setter
    def detail(self, page) -> None:
        self._detail = page

    def _start_services_part(self) -> None:
        """The session's part that needs ``ctx.window``: the operator session, the supervisor's and
        IT's pages, the check for cases committed but never confirmed."""
        ctx = self.ctx
        self.session = self._open_session() if self._open_session_enabled else None
        if self.may_supervise:
            from ui.supervisor_page import SupervisorPage

            self.supervisor = SupervisorPage(ctx)
            self.supervisor.open_case.connect(self.show_case_detail)
            self._pages.append(self.supervisor)
            self.stack.addWidget(self.supervisor)
        if self.may_configure:
            from ui.settings_page import SettingsPage

            self.settings_page = SettingsPage(ctx)
            self._pages.append(self.settings_page)
            self.stack.addWidget(self.settings_page)
        self._apply_permissions()
        self._unlock_with = self.session.unlock if self.session is not None else None
        if self._lock_screen is not None:
            self._lock_screen.set_unlock(self._unlock_with)
        if self.may_handle:
            if self.worklist.waiting_for_services:
                self.worklist.refresh()  # asked for (and the stored list shown) while the services opened
            submit(self.ctx.tasks.db, recovered_case_numbers, self.ctx.window, on_success=self._show_recovered,
                   on_failure=self._recovery_check_failed)
        elif self.may_supervise:
            self.show_supervisor()
        elif self.may_configure:
            self.show_settings()

    def end_session(self) -> None:
        """Logout: the pages go (nothing of the last operator's stays on screen)."""
        self.idle.uninstall()
        self._close_acceptance()
        self.stack.setCurrentWidget(self.welcome)
        for page in self._pages:
            self.stack.removeWidget(page)
            page.deleteLater()
        self._pages = []
        self.worklist = self.detail = self.supervisor = self.settings_page = self.acceptance_host = None
        self.may_handle = self.may_supervise = self.may_configure = False
        self.session = None
        self.ctx.actor = None
        self.status.set_operator("")
        self.welcome.setText("请登录")
        if self.locked:
            self.lock_screen.hide()
            self.menuBar().setEnabled(True)
            self.stack.setEnabled(True)
        self._apply_permissions()

    def _apply_permissions(self) -> None:
        """Enable what the operator's role and the session's state allow (menus and toolbar);
        nothing while the services are still opening (the worklist shows the stored list)."""
        active = self.in_session and self._services
        # On the acceptance page F5–F9 and Esc belong to the stepper (its own shortcuts); window
        # actions on the same keys would make them ambiguous, and Qt would then fire neither.
        free_keys = active and (self.acceptance_host is None or self.stack.currentWidget() is not self.acceptance_host)
        wanted = {
            "actNew": active and self.may_handle, "actFind": active and self.may_handle,
            "actWorklist": active and self.may_handle, "actRefresh": free_keys,
            "actSupervisor": free_keys and self.may_supervise, "actSettings": free_keys and self.may_configure,
            "actSync": free_keys and self.ctx.sync is not None, "actLock": active, "actLogout": active,
            "actPlaceCard": active and self.ctx.devices is not None,
            "actRemoveCard": active and self.ctx.devices is not None,
        }
        for action in self._actions:
            if action.objectName() in wanted:
                action.setEnabled(wanted[action.objectName()])
        for button, action in self._toolbar_buttons:
            button.setVisible(action.isEnabled())

    @Slot(int)
    def _page_changed(self, _index: int) -> None:
        if not self.locked_or_starting:
            self._apply_permissions()

    @property
    def locked_or_starting(self) -> bool:
        return not self._built or self.locked

    # ---- session -------------------------------------------------------------------------------
    def _open_session(self):
        from counter_app.security.access import OperatorSession

        return OperatorSession(self.ctx.window, self.ctx.actor)

    # ---- menus -----------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        build_menus(self)

    # ---- pages -----------------------------------------------------------------------------------
    @Slot()
    def show_worklist(self) -> None:
        if not self.may_handle:
            return
        self.stack.setCurrentWidget(self.worklist)
        self.worklist.refresh()
        self.worklist.table.setFocus()  # Qt.FocusReason.OtherFocusReason, the default

    @Slot()
    def focus_search(self) -> None:
        if self.worklist is None:
            return
        if self.stack.currentWidget() is not self.worklist:
            self.stack.setCurrentWidget(self.worklist)
        self.worklist.focus_search()

    @Slot()
    def show_supervisor(self) -> None:
        if self.supervisor is not None:
            self.stack.setCurrentWidget(self.supervisor)
            self.supervisor.refresh()
            self.supervisor.day.setFocus()  # OtherFocusReason

    @Slot()
    def show_settings(self) -> None:
        if self.settings_page is not None:
            self.stack.setCurrentWidget(self.settings_page)
            self.settings_page.tabs.setFocus()  # OtherFocusReason

    @Slot(str)
    def show_case_detail(self, case_id: str) -> None:
        if self.detail is None:
            return
        self.stack.setCurrentWidget(self.detail)
        self.detail.show_case(case_id)
        self.detail.tabs.setFocus()  # OtherFocusReason

    @Slot()
    def refresh_current(self) -> None:
        page = self.stack.currentWidget()
        refresh = getattr(page, "refresh", None)
        if callable(refresh):
            refresh()

    def current_page(self) -> QWidget:
        return self.stack.currentWidget()

    # ---- sync and devices ----------------------------------------------------------------------------
    @Slot()
    def sync_now(self) -> None:
        if self.ctx.sync is not None:
            self.ctx.sync.retry_now()
            self.ctx.sync.pull_now()
            self.status.showMessage("正在与省平台同步……", 5000)

    @Slot(object)
    def _sync_status_arrived(self, status) -> None:
        # New worklist entries or department progress may have arrived; refresh the visible list
        # at once when the platform's worklist was just pulled (it merges into the local list), and
        # otherwise at most every 30 s so a busy sync does not make the table jump under the cursor.
        now = time.monotonic()
        pulled = getattr(status, "pulled_at", None)
        fresh = pulled is not None and pulled != self._pull_shown
        if (self.worklist is not None and self.stack.currentWidget() is self.worklist and not self.worklist.loading
                and not self.worklist.search.text() and (fresh or now - self._last_auto_refresh > 30)):
            self._last_auto_refresh = now
            self._pull_shown = pulled
            self.worklist.refresh()

    @Slot()
    def place_demo_card(self) -> None:
        if self.ctx.devices is not None:
            self.ctx.devices.place_demo_card()
            self.status.showMessage("已在模拟读卡器上放置演示身份证。", 4000)

    @Slot()
    def _place_named_card(self) -> None:
        action = self.sender()
        if self.ctx.devices is not None and action is not None:
            self.ctx.devices.place_demo_card(action.data())

    @Slot()
    def remove_demo_card(self) -> None:
        if self.ctx.devices is not None:
            self.ctx.devices.remove_demo_card()

    # ---- lock and logout ------------------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        return self._lock_screen is not None and self._lock_screen.locked

    @property
    def lock_screen(self) -> LockScreen:
        """The cover shown while locked, built at the first lock: a hidden child built with the
        window would still be styled (polished) with it before the first page shows."""
        if self._lock_screen is None:
            self._lock_screen = LockScreen(self.ctx, self, unlock=self._unlock_with)
            self._lock_screen.unlocked.connect(self._unlocked)
            self._lock_screen.logout_requested.connect(self.logout)
        return self._lock_screen

    @Slot()
    def lock(self) -> None:
        if self.locked or not self.in_session:
            return
        self.idle.suspend()
        self._enabled_before_lock = {action: action.isEnabled() for action in self._actions}
        for action in self._actions:
            action.setEnabled(False)
        self.menuBar().setEnabled(False)
        self.stack.setEnabled(False)
        self.lock_screen.lock()
        if self.session is not None:
            submit(self.ctx.tasks.db, record_lock, self.session, on_failure=self._lock_record_failed)

    def _lock_record_failed(self, exc: BaseException) -> None:
        log.warning("锁屏审计记录失败：%s", exc)

    @Slot()
    def _unlocked(self) -> None:
        before = self._enabled_before_lock
        for action in self._actions:
            action.setEnabled(before.get(action, True))
        self.menuBar().setEnabled(True)
        self.stack.setEnabled(True)
        self._apply_permissions()
        self.idle.resume()
        current = self.stack.currentWidget()
        (current.focusWidget() or current).setFocus()  # OtherFocusReason

    @Slot()
    def logout(self) -> None:
        """End the operator's session; the window stays, asking for the next login."""
        if self.session is not None:
            submit(self.ctx.tasks.db, self.session.logout, on_failure=self._lock_record_failed)
        self.end_session()
        self.logout_requested.emit()

    # ---- recovery after a crash --------------------------------------------------------------------------
    def _show_recovered(self, recovered: list[tuple[str, str]]) -> None:
        """Cases committed (and queued) whose "accepted" screen the clerk never saw: say so once."""
        if not recovered:
            return
        numbers = "\n".join(no for _, no in recovered[:20])
        more = f"\n……共{len(recovered)}件" if len(recovered) > 20 else ""
        box = show_info(self, "以下办件在程序上次意外退出前已经保存并进入上报队列，但受理结果没有显示给申请人：\n"
                              f"{numbers}{more}\n请在工作台打开核对，并告知申请人已受理。", "已恢复的办件")
        box.finished.connect(self._recovered_seen)
        self._recovered_ids = [case_id for case_id, _ in recovered]

    @Slot(int)
    def _recovered_seen(self, _result: int) -> None:
        ids, self._recovered_ids = self._recovered_ids, []
        submit(self.ctx.tasks.db, confirm_recovered, self.ctx.window, ids, on_failure=self._recovery_check_failed)

    def _recovery_check_failed(self, exc: BaseException) -> None:
        log.warning("检查未确认办件失败：%s", exc)

    # ---- misc -------------------------------------------------------------------------------------------
    @Slot()
    def show_shortcuts(self) -> None:
        text = "\n".join(f"{key}\t{what}" for key, what in SHORTCUT_HELP)
        show_info(self, text, "快捷键一览")

    def show_for_screen(self) -> None:
        """Maximised: on the 1366×768 counter PCs every pixel is needed."""
        self.showMaximized()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if self.acceptance is not None and not self._closing_confirmed:
            from PySide6.QtWidgets import QMessageBox

            event.ignore()
            box = QMessageBox(QMessageBox.Icon.Question, "退出程序",
                              "正在受理的办件尚未提交。已填写的内容已保存为草稿，下次可在工作台继续办理。\n确定要退出吗？",
                              QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
            box.button(QMessageBox.StandardButton.Yes).setText("退出")
            box.button(QMessageBox.StandardButton.No).setText("继续办理")
            box.buttonClicked.connect(self._close_answered)
            box.open()
            self._close_box = box
            return
        self.idle.uninstall()
        self._close_acceptance()
        screen = self.ctx.applicant_screen
        if screen is not None:
            # a top-level window of its own: left open, it would keep the program running
            screen.close()
        if self.session is not None and not self._closing_confirmed:
            try:
                self.session.logout(reason="exit")  # at exit: one short write, nothing left to freeze
            except Exception:
                log.exception("退出登录记录失败")
        super().closeEvent(event)
        self.quit_requested.emit()

    @Slot(object)
    def _close_answered(self, button) -> None:
        from PySide6.QtWidgets import QMessageBox

        if button is self._close_box.button(QMessageBox.StandardButton.Yes):
            self._closing_confirmed = True
            self.close()
