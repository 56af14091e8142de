"""Starting the desktop application: Qt, the bundled Chinese font, the style sheet, services,
login, main window.

``run_gui`` is what ``counter-app`` (no arguments) and ``counter-app demo start`` call.
The pieces are separate functions so tests, ``ui screenshots``, ``ui smoke`` and the start-up
benchmark build exactly the same application without the interactive login.

Thread contract: everything here runs on the GUI (main) thread. Opening the services
(``open_window``: settings, keys, database migrations) happens before any window is shown, so
no window can appear frozen while it runs.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

# Not ``Qt``: see ``ui.qt_names`` (the start path up to the first rows does not build Qt's namespace).
from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QObject, QTranslator, Signal, Slot
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

import ui.pyside_fixes  # noqa: F401 - must run before any signal is emitted (see the module)
from ui.context import AppContext, AppHooks

log = logging.getLogger(__name__)

APP_TITLE = "退役军人服务“一件事”综合受理窗口"
# Body text at arm's length: 16 px; nothing anywhere is below 14 px (see app.qss).
BODY_PIXEL_SIZE = 16
MIN_PIXEL_SIZE = 14

_fonts_installed: list[str] | None = None
_styled_apps: set[int] = set()


def bundled_font_files() -> list[Path]:
    """The shipped font files, main font first: the same files the PDFs embed."""
    from printing.fonts import qt_font_files

    return [p for p in qt_font_files() if p.exists()]


def install_fonts() -> list[str]:
    """Register the bundled fonts with Qt (idempotent) and return their families, main first.

    The PC at a service center may have no CJK font at all; without this, every label would be
    a row of empty boxes. The rare-character font (Extension B names) is added as a fallback
    family so a name like 𠈌 still shows.
    """
    global _fonts_installed
    if _fonts_installed is not None:
        return _fonts_installed
    families: list[str] = []
    for path in bundled_font_files():
        font_id = QFontDatabase.addApplicationFont(str(path))
        if font_id < 0:
            log.warning("无法加载字体文件 %s", path.name)
            continue
        found = QFontDatabase.applicationFontFamilies(font_id)
        # A .ttc holds several faces (Zen Hei, Zen Hei Mono, Sharp); the first is the proportional one.
        if found:
            families.append(found[0])
    _fonts_installed = families
    return families


def ui_font(pixel_size: int = BODY_PIXEL_SIZE, *, bold: bool = False) -> QFont:
    """The application font: the bundled Chinese family with the rare-character fallback."""
    families = install_fonts()
    font = QFont()
    if families:
        font.setFamilies(families)
    font.setPixelSize(max(pixel_size, MIN_PIXEL_SIZE))
    font.setBold(bold)
    return font


def style_sheet() -> str:
    """The Qt style sheet shipped in ``resources/style/app.qss`` ("" if it is missing: the
    application still works, only plainer)."""
    from counter_app.paths import resource_path

    path = resource_path("style/app.qss")
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        log.warning("样式表 %s 不存在，使用默认外观", path)
        return ""


_translators: dict[int, QTranslator] = {}


def install_qt_translations(app: QApplication) -> bool:
    """Qt's own Chinese (qtbase_zh_CN, shipped with PySide6): the file dialogs' and message boxes'
    buttons say 是/否/确定/取消/打开 instead of Yes/No/OK/Cancel/Open. Once per application."""
    if id(app) in _translators:
        return True
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not translator.load(QLocale(QLocale.Language.Chinese, QLocale.Country.China), "qtbase", "_", folder):
        log.warning("Qt 中文翻译（qtbase_zh_CN）未找到，标准按钮将显示英文")
        return False
    app.installTranslator(translator)
    _translators[id(app)] = translator
    return True


def ensure_application(argv: list[str] | None = None) -> QApplication:
    """The one QApplication, created with high-DPI settings, the bundled font and the style sheet.

    Reuses an existing instance (pytest-qt's) and still applies font and style to it.
    """
    app = QApplication.instance()
    if app is None:
        # Fractional scale factors (125 %, 150 % on Windows laptops) are used as they are, not
        # rounded to 1× or 2×: text stays the intended physical size. That is Qt 6's default
        # (PassThrough; a test holds it), so it is not set here: naming it builds Qt's namespace.
        QCoreApplication.setApplicationName("counter-app")
        QCoreApplication.setOrganizationName("counter-app")
        app = QApplication([sys.argv[0] if sys.argv else "counter-app", *(argv or [])])
    assert isinstance(app, QApplication)
    app.setApplicationDisplayName(APP_TITLE)
    install_qt_translations(app)
    app.setFont(ui_font())
    if id(app) not in _styled_apps:
        # Remembered in Python, not as a bool Qt property: reading a bool property back many
        # times trips a reference-count bug in PySide6 (a crash at interpreter exit).
        _styled_apps.add(id(app))
        app.setStyleSheet(style_sheet())
    return app


def build_context(window, *, demo: bool = False, start_sync: bool = True, hooks: AppHooks | None = None) -> AppContext:
    """Services every screen shares, all at once (tests, screenshots). ``run_gui`` builds the
    same in two steps: see :class:`Startup`."""
    from ui.tasks import TaskRunners

    ctx = AppContext(window=window, tasks=TaskRunners(), demo=demo, hooks=hooks or AppHooks())
    attach_services(ctx, window, start_sync=start_sync)
    return ctx


def attach_services(ctx: AppContext, window, *, start_sync: bool = True) -> None:
    """Put the opened ``window`` into the context and start what runs beside the GUI: the sync
    worker and the device hub, as the composition root builds them (``ctx.hooks``). GUI thread."""
    ctx.window = window
    if start_sync and ctx.sync is None and ctx.hooks.open_sync is not None:
        from ui.sync_bridge import SyncBridge

        ctx.sync = SyncBridge(ctx.hooks.open_sync(window))
        ctx.sync.start()
    if ctx.devices is None:
        ctx.devices = _open_devices(ctx)
    if ctx.signing is None and ctx.hooks.signing_service is not None:
        ctx.signing = ctx.hooks.signing_service(window)
        # Demo mode: the demo certificate's password is the demo accounts' (README); a real
        # center's PIN is typed by IT on the settings page.
        ctx.signing.start(unlock_with=ctx.hooks.demo_password or None)
    if ctx.housekeeping is None:
        from ui.housekeeping import Housekeeping

        ctx.housekeeping = Housekeeping(ctx, parent=ctx.tasks)
        ctx.housekeeping.start()


def _open_devices(ctx: AppContext):
    """The device hub around the composition root's device set (simulated in demo mode)."""
    from ui.devices.hub import DeviceHub

    if ctx.hooks.open_devices is None:
        log.info("没有设备（未提供设备组合）")
        return None
    try:
        hub = DeviceHub(ctx.hooks.open_devices(ctx.window.settings, ctx.demo))
        hub.start()
        return hub
    except Exception:  # a device that fails must not keep the window from opening
        log.exception("设备初始化失败")
        return None


def close_context(ctx: AppContext) -> None:
    """Stop workers and release the database; safe to call twice."""
    if ctx.housekeeping is not None:
        ctx.housekeeping.stop()
    if ctx.sync is not None:
        ctx.sync.stop()
    if ctx.signing is not None:
        ctx.signing.stop()
    if ctx.devices is not None:
        try:
            ctx.devices.shutdown()
        except Exception:
            log.exception("关闭设备时出错")
    ctx.tasks.shutdown()
    if ctx.window is not None:
        ctx.window.close()


def show_startup_error(message: str, parent=None) -> None:
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Critical, APP_TITLE, message, QMessageBox.StandardButton.Ok, parent)
    box.setInformativeText("请把这段提示告诉技术人员（运维）；处理后重新打开本程序。")
    box.exec()


def open_window_or_message(home: Path | None, keystore=None):
    """``counter_app.services.open_window`` with errors turned into plain Chinese sentences.

    Returns the Window, or a message string when it cannot be opened. Blocks (imports the core,
    opens the key store, migrates the database): :class:`Startup` runs it on a worker.
    ``keystore``: the key store the stored worklist was read with (asked once).
    """
    from counter_app.services import open_window

    try:
        window = open_window(home, keystore=keystore)
        # The login's next step, imported here and not on the GUI thread at the operator's Enter:
        # the operators module hashes its unknown-user stand-in (scrypt, ~0.15 s) when imported.
        import counter_app.security.access  # noqa: F401
        return window
    except Exception as exc:  # noqa: BLE001 - every failure here ends in a message, not a traceback
        log.exception("打开数据目录失败")
        message = getattr(exc, "message", None) or str(exc)
        return f"程序无法打开本窗口的数据：{message}"


def warm_imports() -> None:
    """Import (not start) what the GUI thread builds next — the sync client, the device
    drivers (NumPy, OpenCV) — so those imports do not stall the GUI thread. Worker thread only;
    it creates no QObject."""
    import counter_app.sync  # noqa: F401
    import ui.devices.hub  # noqa: F401


def stored_worklist(home: Path, window_no: str):
    """``counter_app.queries.worklist.read_stored_worklist``, imported here on the worker that
    runs it: the GUI thread answers meanwhile. Worker thread only."""
    from counter_app.queries.worklist import read_stored_worklist

    return read_stored_worklist(home, window_no)


def startup_settings(home: Path):
    """The window's settings from ``config.toml`` alone (no database, no key store): enough for
    the main window's title and the login dialog while the services open."""
    from counter_app.config import load_settings

    return load_settings(Path(home) / "config.toml")


def first_run_needed(home: Path) -> bool:
    from counter_app.config import needs_first_run

    return needs_first_run(home)


def reload_settings(window) -> None:
    """After the first-run wizard wrote config.toml: the services pick up the new values."""
    from counter_app.config import load_settings

    window.settings = load_settings(window.home / "config.toml")
    window.cases.center_code = window.settings.center_code
    window.cases.window_no = window.settings.window_no
    window.cases.center_name = window.settings.center_name


class Startup(QObject):
    """Cold start without a frozen screen: the main window is shown first (title, menus, status
    bar, "正在打开本窗口的数据……"), the services open on ``ctx.tasks.db``, the login dialog
    (window-modal) takes the operator's name and password meanwhile, and the pages appear after
    login. Logout brings the login dialog back; a fresh install gets the first-run wizard first.

    ``actor`` skips the login (``ui smoke``, the start-up benchmark). With the operator known and
    the window configured, the worklist as the store holds it is read first (``sqlite3``, no
    SQLAlchemy: ``counter_app.queries``) and shown as soon as it is there, marked as the stored
    list; the services open right after, and their full list replaces it. A store that cannot be
    read that way (first set-up, another schema revision, damage, a key store to repair) shows
    nothing early: the services read it or refuse with their own message, as without an operator.

    Signals: ``services_opened()`` once ``ctx.window`` is open; ``peripherals_opened()`` once the
    sync worker and the device hub run (shortly after); ``failed(str)`` when the window cannot open.
    """

    services_opened = Signal()
    peripherals_opened = Signal()
    failed = Signal(str)

    def __init__(self, app: QApplication, home: Path | None, *, demo: bool = False, actor=None,
                 open_session: bool = True, show_errors: bool = True, hooks: AppHooks | None = None):
        super().__init__()
        from counter_app.paths import data_home
        from ui.main_window import MainWindow
        from ui.tasks import TaskRunners

        self.app = app
        self.show_errors = show_errors  # False for unattended runs (ui smoke): no box to click
        self.home = Path(home) if home else data_home()
        self.settings = startup_settings(self.home)  # ConfigError (Chinese) for a broken file
        self.ctx = AppContext(window=None, tasks=TaskRunners(), demo=demo or bool(self.settings.demo_mode),
                              hooks=hooks or AppHooks())
        self.ctx.actor = actor
        self.main = MainWindow(self.ctx, settings=self.settings, open_session=open_session)
        self.main.logout_requested.connect(self.show_login)
        self.main.quit_requested.connect(app.quit)   # Ctrl+Q ends the program, other windows too
        self.login = None
        self.wizard = None

    def start(self) -> None:
        if first_run_needed(self.home):
            self.main.show_for_screen()
            self._open_services()
        elif self.ctx.actor is not None:
            # The operator is known (no login): the worklist as the store holds it comes first,
            # read without the full services (``counter_app.queries``); they open right after.
            # The window answers meanwhile; the operator's pages are built when the rows are there.
            from ui.background import submit

            submit(self.ctx.tasks.db, stored_worklist, self.home, self.settings.window_no,
                   on_success=self._stored_worklist, on_failure=self._stored_worklist_unreadable)
            self.main.show_for_screen()
        else:
            self.main.show_for_screen()
            self._open_services()
            self.show_login()

    def _open_services(self, keystore=None) -> None:
        from ui.background import submit

        submit(self.ctx.tasks.db, open_window_or_message, self.home, keystore, on_success=self._opened,
               on_failure=self._open_failed)

    def _stored_worklist(self, stored) -> None:
        if stored.rows is None:
            # Not an error: the full services read (or refuse, with their own message) what this
            # could not — a first set-up, another schema, a damaged store, a locked key store. The
            # pages then come with the services (``MainWindow.services_ready``).
            log.info("工作台未能在服务打开前读取：%s", stored.reason)
        else:
            self.main.start_session()
            if self.main.worklist is not None:
                self.main.worklist.show_stored(stored.rows)
        self._open_services(stored.keystore)

    def _stored_worklist_unreadable(self, exc: BaseException) -> None:
        log.error("读取本机工作台失败", exc_info=(type(exc), exc, exc.__traceback__))
        self._open_services()

    # ---- services ---------------------------------------------------------------------------------
    def _opened(self, window) -> None:
        if isinstance(window, str):
            self._fail(window)
            return
        from PySide6.QtCore import Qt

        from ui.crash import install as install_crash_reporter

        install_crash_reporter(window.home)  # an uncaught error: a report file and a plain message
        self.ctx.demo = self.ctx.demo or bool(window.settings.demo_mode)
        self.ctx.window = window
        # The database is open: the operator can log in and work. The sync worker and the device
        # hub follow once their modules are imported on a worker (they are not needed to log in).
        # That import starts once the first page has shown its rows, so the two do not compete
        # for the interpreter while the clerk waits for the worklist.
        self.main.services_ready()
        page = self.main.worklist
        if page is not None and page.loading:
            # importing NumPy/OpenCV and the sync client holds the interpreter for about a second:
            # only once the clerk sees the list
            page.loaded.connect(self._warm_up, Qt.ConnectionType.SingleShotConnection)
        else:
            self._warm_up()
        self.services_opened.emit()
        if first_run_needed(self.home) and not self.ctx.demo:
            self.show_first_run()
        elif self.login is not None:
            self.login.services_ready()

    def _warm_up(self) -> None:
        from ui.background import submit

        submit(self.ctx.tasks.db, warm_imports, on_success=self._peripherals, on_failure=self._peripherals)

    def _peripherals(self, _result=None) -> None:
        attach_services(self.ctx, self.ctx.window)
        self.main.peripherals_ready()
        self.peripherals_opened.emit()

    def _open_failed(self, exc: BaseException) -> None:
        log.error("打开数据目录失败", exc_info=(type(exc), exc, exc.__traceback__))
        self._fail(f"程序无法打开本窗口的数据：{getattr(exc, 'message', None) or exc}")

    def _fail(self, message: str) -> None:
        self.failed.emit(message)
        if self.show_errors:
            show_startup_error(message, self.main)
        self.app.exit(1)

    # ---- people -------------------------------------------------------------------------------------
    @Slot()
    def show_login(self) -> None:
        from PySide6.QtCore import Qt

        from ui.login_dialog import LoginDialog

        self.login = LoginDialog(self.ctx, settings=self.settings, parent=self.main)
        self.login.setWindowModality(Qt.WindowModality.WindowModal)
        self.login.accepted.connect(self._logged_in)
        self.login.rejected.connect(self.main.close)
        self.login.open()

    @Slot()
    def _logged_in(self) -> None:
        self.login = None
        self.main.start_session()

    def show_first_run(self) -> None:
        """A fresh install: IT fills in center, window, platform, devices and printers once."""
        from ui.first_run_wizard import FirstRunWizard

        self.wizard = FirstRunWizard(self.home, window=self.ctx.window, parent=self.main)
        self.wizard.finished.connect(self._first_run_done)
        self.wizard.open()

    @Slot(int)
    def _first_run_done(self, result: int) -> None:
        if getattr(self.wizard, "applied", None) is None:
            self.main.close()  # cancelled: nothing configured, nothing to log in to
            return
        reload_settings(self.ctx.window)
        self.show_login()
        self.login.services_ready()

    def close(self) -> None:
        self.main._closing_confirmed = True
        self.main.close()
        close_context(self.ctx)


def run_gui(argv: list[str], *, home: Path | None = None, demo: bool = False,
            hooks: AppHooks | None = None) -> int:
    """Start the application; returns the process exit code.

    ``demo=True`` (``--demo`` in ``argv`` does the same) uses simulated devices and the
    reference platform configured in the window's settings; the login dialog offers the demo
    operators made by ``counter-app demo start``.
    """
    if "--demo" in argv:
        demo = True
        argv = [a for a in argv if a != "--demo"]
    app = ensure_application(argv)
    try:
        startup = Startup(app, home, demo=demo, hooks=hooks)
    except Exception as exc:  # a config.toml that cannot be read: say so, do not crash
        show_startup_error(f"程序无法读取本窗口的设置：{getattr(exc, 'message', None) or exc}")
        return 1
    startup.start()
    try:
        code = app.exec()
    finally:
        startup.close()
    return int(code)


def main() -> int:  # ``python -m ui.app [--demo]``
    return run_gui(sys.argv[1:])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
