"""``counter-app platform …``: run the reference platform server, import an offline bundle."""
from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from pathlib import Path


def cmd_serve(args: argparse.Namespace) -> int:
    from counter_app.errors import UserError
    from refplatform.server import open_store, serve

    if args.clock_seconds <= 0:
        raise UserError("--clock-seconds 必须大于0。")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise UserError("--tls-cert 与 --tls-key 须同时给出。")
    try:
        store = open_store(Path(args.data), args.token or [], clock_seconds=args.clock_seconds)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    has = store.has_credentials()
    store.close()
    if not has:
        raise UserError("参考平台没有任何窗口凭据：请用 --token 指定（可重复）。")
    if not args.tls_cert and not _loopback(args.host):
        print("警告：未启用TLS且监听非本机地址，仅限隔离的测试网络使用。", file=sys.stderr)
    try:
        serve(args.port, Path(args.data), [], clock_seconds=args.clock_seconds, host=args.host,
              ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key, access_log=args.access_log)
    except OSError as exc:
        raise UserError(f"无法在 {args.host}:{args.port} 上启动：{exc.strerror or exc}（端口被占用？）") from None
    return 0


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_import(args: argparse.Namespace) -> int:
    from counter_app.errors import UserError
    from refplatform.importer import import_bundle
    from refplatform.server import open_store
    from counter_app.sync.bundle import BundleError

    try:
        store = open_store(Path(args.data), args.token or [])
    except ValueError as exc:
        raise UserError(str(exc)) from None
    try:
        summary = import_bundle(store, Path(args.bundle))
    except BundleError as exc:
        raise UserError(exc.message) from None
    finally:
        store.close()
    if args.json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(f"已导入离线包（窗口：{summary.window}）：办件{summary.cases}件，其中新接收{summary.new}件，"
              f"此前已接收{summary.replayed}件，拒收{len(summary.refused)}件；附件{summary.attachments}个。")
        for bk, msg in summary.refused:
            print(f"  拒收 {bk}：{msg}")
    return 1 if summary.refused else 0


def cmd_cases(args: argparse.Namespace) -> int:
    from refplatform.server import open_store

    store = open_store(Path(args.data))
    try:
        page = store.list_cases(page=args.page, page_size=args.page_size)
    finally:
        store.close()
    if args.json:
        print(json.dumps(page, ensure_ascii=False, indent=1))
    else:
        print(f"平台共有办件{page['total']}件（第{page['page']}页）：")
        for c in page["items"]:
            print(f"  {c['platform_case_id']}  {c['business_key']}  接收{c['received_count']}次  来源{c['source']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("platform", help="参考省平台服务器（演示与测试用）")
    ps = p.add_subparsers(dest="platform_command", metavar="SUBCOMMAND")

    s = ps.add_parser("serve", help="运行参考平台HTTP服务器")
    s.add_argument("--port", type=int, default=8800)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--data", required=True, help="平台数据目录")
    s.add_argument("--token", action="append", help="接受的窗口凭据（可重复）")
    s.add_argument("--clock-seconds", type=float, default=30.0, help="部门办理每一步的平均耗时（秒）")
    s.add_argument("--tls-cert", help="TLS证书（PEM）")
    s.add_argument("--tls-key", help="TLS私钥（PEM）")
    s.add_argument("--access-log", action="store_true", help="输出访问日志（不含个人信息）")
    s.set_defaults(func=cmd_serve)

    i = ps.add_parser("import", help="导入窗口导出的离线包")
    i.add_argument("bundle", help="离线包文件（*.cvbundle）")
    i.add_argument("--data", required=True, help="平台数据目录")
    i.add_argument("--token", action="append", help="补充登记窗口凭据（可重复）")
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_import)

    c = ps.add_parser("cases", help="列出平台收到的办件")
    c.add_argument("--data", required=True)
    c.add_argument("--page", type=int, default=1)
    c.add_argument("--page-size", type=int, default=100)
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_cases)
