"""``counter-app demo seed`` and ``demo start``: synthetic applicants and the demo mode."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from app.commands.common import open_window_or_fail as _open
from app.commands.common import print_json as _print_json
from counter_app.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="演示数据与演示模式").add_subparsers(dest="demo_command", metavar="ACTION")
    p = demo.add_parser("seed", help="生成逼真的合成申请人")
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--finalized", action="store_true", help="生成已签字提交并进入上报队列的完整办件")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--no-sign", action="store_true", help="不做电子签章（只排队）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_demo_seed)
    p = demo.add_parser("start", help="以演示模式启动（模拟设备、本机参考平台）")
    p.add_argument("--home", default="var/demo")
    p.add_argument("--port", type=int, default=8800)
    p.add_argument("--no-gui", action="store_true", help="只准备演示环境、检查参考平台可用后退出（自检用）")
    p.set_defaults(func=cmd_demo_start)


def cmd_demo_seed(args: argparse.Namespace) -> int:
    from app.demo.seed import ensure_demo_signing, seed, sign_queued

    if args.count < 1 or args.count > 200_000:
        raise UserError("数量应在1到200000之间。")
    w = _open()
    signing = ""
    try:
        if not w.settings.demo_mode:
            # Synthetic applicants, sealed and queued for the platform, must never enter a real window's store.
            raise UserError("本数据目录不是演示环境（配置中 demo_mode 未开启），拒绝生成演示办件。"
                            "演示请使用 counter-app demo start（数据目录 var/demo）。")
        created = seed(w, args.count, finalized=args.finalized, seed=args.seed)
        if args.finalized and not args.no_sign:
            # A demo case is signed like a real one: a test CA and center certificate at first use.
            ensure_demo_signing(w)
            signing = sign_queued(w)
    finally:
        w.close()
    if args.json:
        _print_json({"created": len(created), "case_nos": created[:50], "signing": signing})
    else:
        print(f"已生成{len(created)}个{'已提交' if args.finalized else '草稿'}办件。{signing}")
    return 0


def cmd_demo_start(args: argparse.Namespace) -> int:
    from app.demo.seed import DEMO_PASSWORD, prepare_demo_home

    home = Path(args.home).resolve()
    info = prepare_demo_home(home, port=args.port)
    os.environ["COUNTER_APP_HOME"] = str(home)
    os.environ["COUNTER_APP_KEYSTORE"] = os.environ.get("COUNTER_APP_KEYSTORE", "file")
    from counter_app.logs import setup_logging

    setup_logging(home)
    server = info.start_platform()
    print(f"演示环境：{home}\n参考平台：{server.url}\n演示账号：clerk01 / supervisor01 / it01，密码均为 {DEMO_PASSWORD}")
    sys.stdout.flush()
    try:
        if args.no_gui:  # a smoke check of the demo set-up: the platform answers, then everything stops
            import requests

            r = requests.get(f"{server.url}/api/v1/health", timeout=10)
            print(f"参考平台健康检查：HTTP {r.status_code}")
            return 0 if r.ok else 1
        from app.gui import start_gui

        return start_gui(home=home, demo=True)
    finally:
        server.stop()
