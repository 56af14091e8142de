"""What happens when the GUI meets an error nobody caught, and whether Qt can start at all.

:func:`install` sets ``sys.excepthook`` and ``threading.excepthook``. An uncaught exception — in a
slot on the GUI thread, in a ``QThread`` worker, in a plain thread — then:

1. writes a crash report into ``<data dir>/crash/`` (versions, platform, thread, exception *type*
   and the call stack as file/line/function only). No exception message, no local variables: those
   are where a name or an ID number would hide. The tail of the (already scrubbed) log is added;
2. logs the same stack (never the exception message: a name in it could not be scrubbed);
3. shows the clerk one plain Chinese message box on the GUI thread — a worker thread never touches
   a widget: it emits a signal that is delivered, queued, to the reporter living on the GUI thread.

A burst of errors (a paint handler failing on every repaint) gives one box at a time and at most
``max_reports`` files per run.

:func:`probe_qt_platform` answers "does the Qt platform plugin load here" for ``counter-app
selftest``. Qt aborts the whole process when a platform plugin cannot load, so selftest runs the
probe in a child process and reads its exit status; ``app.diagnostics`` turns Qt's English
complaint (typically a missing ``libxcb-cursor0`` on a fresh Linux desktop) into Chinese.
"""
from __future__ import annotations

import datetime as _dt
import logging
import os
import platform
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from counter_app.clock import beijing_now
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox

log = logging.getLogger(__name__)

CRASH_DIR = "crash"
TITLE = "程序出错"
MESSAGE = ("程序遇到了意外错误，这不是您的操作造成的。\n\n"
           "已经保存的办件不受影响。请核对正在办理的内容，必要时重新打开程序。\n"
           "如果反复出现，请联系技术人员，并告诉他们出错的时间。")
_OUR_PACKAGES = ("counter_app", "ui", "devices", "printing", "resources")


# ---------------------------------------------------------------- the report

def _short_path(filename: str) -> str:
    """A path without the user's home or install folder: from our package (or site-packages) on."""
    parts = Path(filename).parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] in _OUR_PACKAGES:
            return "/".join(parts[i:])
        if parts[i] in ("site-packages", "_internal"):
            return "/".join(parts[i + 1:])
    return Path(filename).name


def _stack_lines(tb: TracebackType | None) -> list[str]:
    lines = []
    for frame in traceback.extract_tb(tb):
        lines.append(f'  File "{_short_path(frame.filename)}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line.strip()}")
    return lines


def _versions() -> list[str]:
    out = []
    try:
        from counter_app.version import version_info

        v = version_info()
        out.append(f"版本：{v.version}  构建：{v.revision}  数据库结构：程序 {v.schema_head} / 数据 {v.schema_current}")
    except Exception as exc:  # the report must be written even if version lookup itself is broken
        out.append(f"版本：无法获取（{type(exc).__name__}）")
    try:
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        out.append(f"Qt：{qVersion()}  PySide6：{pyside_version}")
    except Exception:
        pass
    out.append(f"系统：{platform.platform()}  Python：{platform.python_version()}"
               f"{'  （安装包）' if getattr(sys, 'frozen', False) else ''}")
    return out


def crash_report_text(exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None,
                      *, thread_name: str, home: Path | None = None, log_tail_lines: int = 30) -> str:
    lines = ["counter-app 错误报告（不含个人信息）",
             f"时间：{beijing_now().isoformat(timespec='seconds')}",
             *_versions(),
             f"线程：{thread_name}",
             f"异常类型：{exc_type.__module__}.{exc_type.__qualname__}",
             "调用栈（仅文件、行号和函数名；异常说明与变量值不记录，以免带出个人信息）：",
             *_stack_lines(tb)]
    # Chained exceptions ("during handling of … another exception occurred") matter for diagnosis.
    seen = {id(exc)}
    inner = exc.__cause__ or exc.__context__ if exc is not None else None
    while inner is not None and id(inner) not in seen:
        seen.add(id(inner))
        lines.append(f"由此引起：{type(inner).__module__}.{type(inner).__qualname__}")
        lines.extend(_stack_lines(inner.__traceback__))
        inner = inner.__cause__ or inner.__context__
    if home is not None:
        lines.extend(_log_tail(home, log_tail_lines))
    return "\n".join(lines) + "\n"


def _log_tail(home: Path, count: int) -> list[str]:
    try:
        from counter_app.logs import log_files
        from counter_app.masking import mask_text

        files = log_files(home)
        if not files:
            return []
        text = files[0].read_text(encoding="utf-8", errors="replace").splitlines()[-count:]
        return ["", f"最近的日志（{files[0].name}，最后 {len(text)} 行）：", *(mask_text(t) for t in text)]
    except Exception:
        return []


def write_crash_report(home: Path, exc_type, exc, tb, *, thread_name: str = "MainThread") -> Path:
    folder = Path(home) / CRASH_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = folder / f"crash-{stamp}-{os.getpid()}.txt"
    path.write_text(crash_report_text(exc_type, exc, tb, thread_name=thread_name, home=home), encoding="utf-8")
    return path


def crash_reports(home: Path) -> list[Path]:
    """Crash reports in ``home``, newest first."""
    return sorted((Path(home) / CRASH_DIR).glob("crash-*.txt"), key=lambda p: p.name, reverse=True)


# ---------------------------------------------------------------- the hooks

class CrashReporter(QObject):
    """Owns the hooks; lives on the GUI thread (create it there)."""

    report_written = Signal(str)   # path of the report, emitted on the GUI thread
    _crashed = Signal(str)         # internal: any thread → GUI thread

    def __init__(self, home: Path, *, show_dialog: bool = True, max_reports: int = 20):
        super().__init__()
        self.home = Path(home)
        self.show_dialog = show_dialog
        self.max_reports = max_reports
        self.reports: list[Path] = []
        self.box: QMessageBox | None = None
        self._lock = threading.Lock()
        self._previous_sys = None
        self._previous_threading = None
        self._crashed.connect(self._on_crashed, Qt.ConnectionType.AutoConnection)

    def install(self) -> "CrashReporter":
        self._previous_sys, sys.excepthook = sys.excepthook, self._sys_hook
        self._previous_threading, threading.excepthook = threading.excepthook, self._thread_hook
        return self

    def uninstall(self) -> None:
        if self._previous_sys is not None:
            sys.excepthook = self._previous_sys
        if self._previous_threading is not None:
            threading.excepthook = self._previous_threading
        self._previous_sys = self._previous_threading = None

    def _sys_hook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt) and self._previous_sys is not None:
            self._previous_sys(exc_type, exc, tb)
            return
        self.handle(exc_type, exc, tb, threading.current_thread().name)

    def _thread_hook(self, args) -> None:
        if issubclass(args.exc_type, SystemExit):
            return
        self.handle(args.exc_type, args.exc_value, args.exc_traceback,
                    args.thread.name if args.thread is not None else "?")

    def handle(self, exc_type, exc, tb, thread_name: str) -> Path | None:
        """Any thread. Writes the report, logs, and asks the GUI thread to tell the clerk."""
        with self._lock:
            if len(self.reports) >= self.max_reports:
                return None
            try:
                path = write_crash_report(self.home, exc_type, exc, tb, thread_name=thread_name)
            except OSError:
                path = None
            if path is not None:
                self.reports.append(path)
        # Not exc_info: the exception's message may hold a name, which no log filter can recognise.
        log.critical("未处理的异常（%s，线程 %s），错误报告：%s\n%s", exc_type.__name__, thread_name,
                     path.name if path else "未能写入", "\n".join(_stack_lines(tb)))
        self._crashed.emit(str(path) if path else "")
        return path

    @Slot(str)
    def _on_crashed(self, path: str) -> None:  # GUI thread
        if path:
            self.report_written.emit(path)
        if not self.show_dialog:
            return
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            print(f"{TITLE}：{MESSAGE}\n错误报告：{path or '未能写入'}", file=sys.stderr)
            return
        if self.box is not None and self.box.isVisible():
            return  # one box at a time; later reports are on disk
        text = MESSAGE + (f"\n\n错误报告（不含个人信息）已保存：\n{path}" if path else "")
        box = QMessageBox(QMessageBox.Icon.Critical, TITLE, text, QMessageBox.StandardButton.Ok,
                          app.activeWindow())
        box.setObjectName("crashBox")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.box = box
        box.open()  # not exec(): no nested event loop inside an exception hook


def install(home: Path | None = None, *, show_dialog: bool = True) -> CrashReporter:
    """Install the GUI's exception hooks (call on the GUI thread, once the data dir is known)."""
    if home is None:
        from counter_app.paths import data_home

        home = data_home()
    return CrashReporter(home, show_dialog=show_dialog).install()


# ---------------------------------------------------------------- can Qt start here?

def native_platform() -> str:
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "cocoa"
    return "wayland" if os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY") else "xcb"


def probe_qt_platform(platform_name: str = "offscreen") -> dict:
    """Start a QApplication on ``platform_name``, lay out and paint a Chinese label; return what happened.

    Run it in a process of its own (selftest does): if the plugin cannot load, Qt aborts the process.
    """
    from PySide6.QtWidgets import QLabel

    app = QApplication.instance() or QApplication(["counter-app", "-platform", platform_name])
    label = QLabel("退役军人服务“一件事”自检")
    label.resize(320, 60)
    label.show()
    app.processEvents()
    image = label.grab().toImage()
    label.close()
    return {"platform": app.platformName(), "painted": not image.isNull() and image.width() > 0,
            "qt_plugins": _plugin_dir()}


def _plugin_dir() -> str:
    from PySide6.QtCore import QLibraryInfo

    return QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)
