"""``counter-app ui …``: screenshots of every screen, and the installers' smoke test.

This module is imported by ``counter_app.cli`` on every command, so it imports nothing from Qt
at module level; the handlers do, and they force the offscreen platform unless asked otherwise.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    ui = sub.add_parser("ui", help="图形界面：截图、冒烟测试")
    ui_sub = ui.add_subparsers(dest="ui_command", metavar="UI_COMMAND")

    shots = ui_sub.add_parser("screenshots", help="用演示数据把每个界面渲染成PNG（离屏，无需显示器）")
    shots.add_argument("dir", type=Path, help="截图输出目录")
    shots.add_argument("--home", type=Path, default=None, help="使用已有的数据目录（默认临时演示目录）")
    shots.set_defaults(func=_screenshots)

    smoke = ui_sub.add_parser("smoke", help="离屏打开主窗口，N毫秒后退出（安装后自检）")
    smoke.add_argument("--ms", type=int, default=1500, help="主窗口保持打开的毫秒数（默认1500）")
    smoke.add_argument("--home", type=Path, default=None, help="使用的数据目录（默认临时目录，不动现有数据）")
    smoke.add_argument("--visible", action="store_true", help="在屏幕上显示（默认离屏）")
    smoke.set_defaults(func=_smoke)

    ui.set_defaults(func=_ui_help(ui))


def _ui_help(parser: argparse.ArgumentParser):
    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2
    return show


def _offscreen() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _screenshots(args: argparse.Namespace) -> int:
    from counter_app.cli import UserError

    _offscreen()
    from ui.app import ensure_application, install_fonts
    from ui.screenshots import render_all

    ensure_application([])
    if not install_fonts():
        raise UserError("找不到随程序安装的中文字体（resources/fonts），截图中的中文会显示为方框。请重新安装本程序。")
    try:
        shots = render_all(args.dir, home=args.home)
    except OSError as exc:
        raise UserError(f"无法写入截图目录 {args.dir}：{exc.strerror or exc}。") from None
    for shot in shots:
        print(shot.path)
    print(f"共 {len(shots)} 张截图，保存在 {args.dir}")
    return 0


def _smoke(args: argparse.Namespace) -> int:
    """Start the application the way ``run_gui`` does (main window first, services on a worker),
    as a logged-in test clerk, and leave ``--ms`` after the services opened.

    Exit 0 means: Qt and its platform plugin load, the bundled font registers, the style sheet
    is found, the database opens (migrations run), and the main window shows its worklist.
    """
    import tempfile

    from counter_app.cli import UserError

    if not args.visible:
        _offscreen()
    from PySide6.QtCore import QTimer

    from counter_app.cases import Actor
    from ui.app import Startup, ensure_application, install_fonts, style_sheet

    temp = None
    home = args.home
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
            startup = Startup(app, home, actor=Actor("smoke-test", "clerk"), open_session=False, show_errors=False)
        except Exception as exc:
            raise UserError(f"界面自检未通过：无法读取设置：{getattr(exc, 'message', None) or exc}") from None
        outcome = {"shown": False, "failure": ""}

        def check() -> None:  # GUI thread, inside the running event loop
            outcome["shown"] = startup.main.isVisible() and startup.main.in_session
            app.quit()

        def failed(message: str) -> None:
            outcome["failure"] = message
            app.quit()

        startup.services_opened.connect(lambda: QTimer.singleShot(max(0, args.ms), check))
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
        print(f"界面自检通过：主窗口已打开并运行 {args.ms} 毫秒。")
        return 0
    finally:
        if temp is not None:
            temp.cleanup()
