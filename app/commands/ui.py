"""``counter-app ui …``: screenshots of every screen, and the installers' smoke test.

This module is imported by ``app.cli`` on every command, so it imports nothing from Qt
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
    from counter_app.errors import UserError

    _offscreen()
    from ui.app import ensure_application, install_fonts
    from app.demo.scene import populate
    from app.gui import hooks
    from ui.screenshots import render_all

    ensure_application([])
    if not install_fonts():
        raise UserError("找不到随程序安装的中文字体（resources/fonts），截图中的中文会显示为方框。请重新安装本程序。")
    try:
        shots = render_all(args.dir, populate, home=args.home, hooks=hooks(demo=True))
    except OSError as exc:
        raise UserError(f"无法写入截图目录 {args.dir}：{exc.strerror or exc}。") from None
    for shot in shots:
        print(shot.path)
    print(f"共 {len(shots)} 张截图，保存在 {args.dir}")
    return 0


def _smoke(args: argparse.Namespace) -> int:
    """Start the application as ``run_gui`` does and leave ``--ms`` after the services opened."""
    if not args.visible:
        _offscreen()
    from app.gui import hooks
    from ui.smoke import run_smoke

    return run_smoke(args.home, args.ms, hooks=hooks())
