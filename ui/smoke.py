"""The installers' smoke test of the GUI (``counter-app ui smoke``): the real start-up path, offscreen."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer

from counter_app.cases import Actor
from counter_app.errors import UserError
from ui.app import Startup, ensure_application, install_fonts, style_sheet
from ui.context import AppHooks


def run_smoke(home: Path | None, ms: int, hooks: AppHooks | None = None) -> int:
    """Start the application the way ``run_gui`` does (main window first, services on a worker),
    as a logged-in test clerk, and leave ``--ms`` after the services opened. ``hooks``: the
    composition root's (sync worker and devices), as ``run_gui`` gets them.

    Exit 0 means: Qt and its platform plugin load, the bundled font registers, the style sheet
    is found, the database opens (migrations run), and the main window shows its worklist.
    """
    temp = None
    if home is None:
        temp = tempfile.TemporaryDirectory(prefix="counter-smoke-")
        home = Path(temp.name)
        os.environ["COUNTER_APP_KEYSTORE"] = "file"  # throw-away directory: keys stay inside it
    try:
        app = ensure_application([])
        problems = []
        if not install_fonts():
            problems.append("找不到随程序安装的中文字体")
        if not style_sheet():
            problems.append("找不到界面样式表 resources/style/app.qss")
        try:
            startup = Startup(app, home, actor=Actor("smoke-test", "clerk"), open_session=False, show_errors=False,
                              hooks=hooks)
        except Exception as exc:
            raise UserError(f"界面自检未通过：无法读取设置：{getattr(exc, 'message', None) or exc}") from None
        outcome = {"shown": False, "failure": ""}

        def check() -> None:  # GUI thread, inside the running event loop
            outcome["shown"] = startup.main.isVisible() and startup.main.in_session
            app.quit()

        def failed(message: str) -> None:
            outcome["failure"] = message
            app.quit()

        startup.services_opened.connect(lambda: QTimer.singleShot(max(0, ms), check))
        startup.failed.connect(failed)
        QTimer.singleShot(120_000, app.quit)  # never hang an installer
        startup.start()
        app.exec()
        startup.close()
        if outcome["failure"]:
            problems.append(outcome["failure"])
        elif not outcome["shown"]:
            problems.append("主窗口未能显示")
        if problems:
            raise UserError("界面自检未通过：" + "；".join(problems) + "。请重新安装本程序或联系技术人员。")
        print(f"界面自检通过：主窗口已打开并运行 {ms} 毫秒。")
        return 0
    finally:
        if temp is not None:
            temp.cleanup()
