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

from PySide6.QtCore import QCoreApplication, QObject, Qt, Slot
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from ui.context import AppContext

log = logging.getLogger(__name__)

APP_TITLE = "退役军人服务“一件事”综合受理窗口"
# Body text at arm's length: 16 px; nothing anywhere is below 14 px (see app.qss).
BODY_PIXEL_SIZE = 16
MIN_PIXEL_SIZE = 14

_fonts_installed: list[str] | None = None


def bundled_font_files() -> list[Path]:
    """The shipped font files, main font first: printing's list when that module is installed,
    otherwise whatever ``resources/fonts`` holds (so the UI never depends on printing to show Chinese)."""
    try:
        from printing.fonts import qt_font_files

        return [p for p in qt_font_files() if p.exists()]
    except ImportError:
        pass
    from counter_app.paths import resource_path

    folder = resource_path("fonts")
    files = sorted(folder.glob("*.tt[cf]"), key=lambda p: (p.suffix != ".ttc", p.name))
    return files


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


def ensure_application(argv: list[str] | None = None) -> QApplication:
    """The one QApplication, created with high-DPI settings, the bundled font and the style sheet.

    Reuses an existing instance (pytest-qt's) and still applies font and style to it.
    """
    app = QApplication.instance()
    if app is None:
        # Fractional scale factors (125 %, 150 % on Windows laptops) are used as they are, not
        # rounded to 1× or 2×: text stays the intended physical size.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        QCoreApplication.setApplicationName("counter-app")
        QCoreApplication.setOrganizationName("counter-app")
        app = QApplication([sys.argv[0] if sys.argv else "counter-app", *(argv or [])])
    assert isinstance(app, QApplication)
    app.setApplicationDisplayName(APP_TITLE)
    app.setFont(ui_font())
    if not app.property("counterStyled"):
        app.setStyleSheet(style_sheet())
        app.setProperty("counterStyled", True)
    return app


def build_context(window, *, demo: bool = False, start_sync: bool = True) -> AppContext:
    """Services every screen shares. Sync starts only when the sync package is installed."""
    from ui.tasks import TaskRunners

    ctx = AppContext(window=window, tasks=TaskRunners(), demo=demo)
    if start_sync:
        from ui.sync_bridge import SyncBridge

        ctx.sync = SyncBridge.for_window(window)
        if ctx.sync is not None:
            ctx.sync.start()
    ctx.devices = _open_devices(ctx)
    return ctx


def _open_devices(ctx: AppContext):
    """The acceptance engineer's device hub (simulated devices in demo mode), if installed."""
    try:
        from ui.device_hub import DeviceHub
    except ImportError:
        log.info("设备模块（ui.device_hub）未安装，界面不连接设备")
        return None
    try:
        hub = DeviceHub(ctx)
        start = getattr(hub, "start", None)
        if callable(start):
            start()
        return hub
    except Exception:  # a device that fails must not keep the window from opening
        log.exception("设备初始化失败")
        return None


def close_context(ctx: AppContext) -> None:
    """Stop workers and release the database; safe to call twice."""
    if ctx.sync is not None:
        ctx.sync.stop()
    if ctx.devices is not None:
        for name in ("shutdown", "close", "stop"):
            fn = getattr(ctx.devices, name, None)
            if callable(fn):
                try:
                    fn()
                except Exception:
                    log.exception("关闭设备时出错")
                break
    ctx.tasks.shutdown()
    ctx.window.close()


def show_startup_error(message: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Critical, APP_TITLE, message)
    box.setInformativeText("请把这段提示告诉技术人员（运维）；处理后重新打开本程序。")
    box.exec()


def open_services(home: Path | None):
    """``counter_app.services.open_window`` with errors turned into plain Chinese sentences.

    Returns the Window, or a message string when it cannot be opened.
    """
    from counter_app.services import open_window

    try:
        return open_window(home)
    except Exception as exc:  # noqa: BLE001 - every failure here ends in a message, not a traceback
        log.exception("打开数据目录失败")
        message = getattr(exc, "message", None) or str(exc)
        return f"程序无法打开本窗口的数据：{message}"


def run_gui(argv: list[str], *, home: Path | None = None, demo: bool = False) -> int:
    """Start the application; returns the process exit code.

    ``demo=True`` (``--demo`` in ``argv`` does the same) uses simulated devices and the
    reference platform configured in the window's settings; the login dialog offers the demo
    operators made by ``counter-app demo start``.
    """
    if "--demo" in argv:
        demo = True
        argv = [a for a in argv if a != "--demo"]
    app = ensure_application(argv)
    window = open_services(home)
    if isinstance(window, str):
        show_startup_error(window)
        return 1
    demo = demo or bool(window.settings.demo_mode)
    try:
        from ui.crash import install as install_crash_reporter

        install_crash_reporter(window.home)  # an uncaught error: a report file and a plain message
    except ImportError:
        pass
    ctx = build_context(window, demo=demo)

    shell = Shell(ctx, app)
    if not demo and first_run_needed(window.home):
        shell.show_first_run()
    else:
        shell.show_login()
    try:
        code = app.exec()
    finally:
        shell.close_main()
        close_context(ctx)
    return int(code)


def first_run_needed(home: Path) -> bool:
    try:
        from counter_app.site_config import needs_first_run
    except ImportError:
        return False
    return needs_first_run(home)


def reload_settings(window) -> None:
    """After the first-run wizard wrote config.toml: the services pick up the new values."""
    from counter_app.config import load_settings

    window.settings = load_settings(window.home / "config.toml")
    window.cases.center_code = window.settings.center_code
    window.cases.window_no = window.settings.window_no
    window.cases.center_name = window.settings.center_name


class Shell(QObject):
    """(First-run wizard →) login → main window → (logout) → login again, in one application."""

    def __init__(self, ctx: AppContext, app: QApplication):
        super().__init__()
        self.ctx = ctx
        self.app = app
        self.main = None
        self.login = None
        self.wizard = None

    def show_first_run(self) -> None:
        """A fresh install: IT fills in center, window, platform, devices and printers once."""
        from ui.first_run_wizard import FirstRunWizard

        self.app.setQuitOnLastWindowClosed(False)
        self.wizard = FirstRunWizard(self.ctx.window.home, window=self.ctx.window)
        self.wizard.finished.connect(self._first_run_done)
        self.wizard.show()

    @Slot(int)
    def _first_run_done(self, result: int) -> None:
        if getattr(self.wizard, "applied", None) is None:
            self.app.quit()  # cancelled: nothing configured, nothing to log in to
            return
        reload_settings(self.ctx.window)
        self.show_login()

    def show_login(self) -> None:
        from ui.login_dialog import LoginDialog

        # Between the login dialog hiding and the main window showing no window is visible;
        # that moment must not count as "last window closed".
        self.app.setQuitOnLastWindowClosed(False)
        self.ctx.actor = None
        self.login = LoginDialog(self.ctx)
        self.login.accepted.connect(self._logged_in)
        self.login.rejected.connect(self.app.quit)
        self.login.show()

    @Slot()
    def _logged_in(self) -> None:
        from ui.main_window import MainWindow

        self.main = MainWindow(self.ctx)
        self.main.logout_requested.connect(self._logged_out)
        self.main.show_for_screen()
        self.app.setQuitOnLastWindowClosed(True)

    @Slot()
    def _logged_out(self) -> None:
        main, self.main = self.main, None
        if main is not None:
            main.deleteLater()
        self.show_login()

    def close_main(self) -> None:
        if self.main is not None:
            self.main.close()


def main() -> int:  # ``python -m ui.app [--demo]``
    return run_gui(sys.argv[1:])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
