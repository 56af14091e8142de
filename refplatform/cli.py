"""``counter-app platform …``: run the reference platform server, enrol credentials, import an offline bundle."""
from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from pathlib import Path

from refplatform.credentials import SPEC_HELP


def cmd_serve(args: argparse.Namespace) -> int:
    from counter_app.errors import UserError
    from refplatform.server import open_store, serve

    if args.clock_seconds <= 0:
        raise UserError("--clock-seconds 必须大于0。")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise UserError("--tls-cert 与 --tls-key 须同时给出。")
    try:
        store = open_store(Path(args.data), _enrolments(args), clock_seconds=args.clock_seconds,
                           database_url=args.database_url)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    has = store.has_credentials()
    store.close()
    if not has:
        raise UserError(f"参考平台没有任何凭据：请用 --token 登记（可重复），格式：{SPEC_HELP}。")
    if not args.tls_cert and not _loopback(args.host):
        print("警告：未启用TLS且监听非本机地址，仅限隔离的测试网络使用。", file=sys.stderr)
    try:
        serve(args.port, Path(args.data), [], clock_seconds=args.clock_seconds, host=args.host,
              database_url=args.database_url,
              ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key, access_log=args.access_log)
    except OSError as exc:
        raise UserError(f"无法在 {args.host}:{args.port} 上启动：{exc.strerror or exc}（端口被占用？）") from None
    return 0


def _enrolments(args: argparse.Namespace) -> list:
    """``--token SPEC`` (repeatable) with ``--seal-key CENTER-WINDOW=BASE64`` (repeatable)."""
    from refplatform.credentials import Enrolment

    keys: dict[str, str] = {}
    for item in getattr(args, "seal_key", None) or []:
        binding, eq, key = item.partition("=")
        if not eq:
            raise ValueError("--seal-key 的格式为 中心代码-窗口号=公钥（Base64）。")
        keys[binding.strip()] = key.strip()
    out = []
    for spec in args.token or []:
        binding = spec.rpartition("@")[2]
        out.append(Enrolment.parse(spec, seal_public_key=keys.pop(binding, None)))
    if keys:
        raise ValueError(f"--seal-key 指定的窗口没有对应的 --token：{'、'.join(keys)}。")
    return out


def cmd_enrol(args: argparse.Namespace) -> int:
    from counter_app.errors import UserError
    from refplatform.server import open_store

    try:
        store = open_store(Path(args.data), _enrolments(args), database_url=args.database_url)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    try:
        for spec in args.token:
            binding = spec.rpartition("@")[2]
            print(f"已登记凭据：{binding}")
    finally:
        store.close()
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
        store = open_store(Path(args.data), _enrolments(args))
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
        page = store.list_cases(None, page=args.page, page_size=args.page_size)
    finally:
        store.close()
    if args.json:
        print(json.dumps(page, ensure_ascii=False, indent=1))
    else:
        print(f"平台共有办件{page['total']}件（第{page['page']}页）：")
        for c in page["items"]:
            print(f"  {c['platform_case_id']}  {c['business_key']}  接收{c['received_count']}次  来源{c['source']}")
    return 0


def cmd_rate(args: argparse.Namespace) -> int:
    """The applicant's answer through the platform's own rating channel (the SMS link, the online hall)."""
    from counter_app.errors import UserError
    from counter_app.sync.contract import BUSINESS_KEY_RE
    from refplatform.errors import PlatformError
    from refplatform.followups import rate_through_channel
    from refplatform.server import open_store

    if not BUSINESS_KEY_RE.match(args.business_key):
        raise UserError("业务键应为“办件编号/v版本号”，如 410702-01-20261207-0001-X/v1。")
    store = open_store(Path(args.data))
    try:
        rate_through_channel(store, args.business_key, args.level, args.reason or "", stage=args.stage,
                             channel=args.channel)
    except PlatformError as exc:
        raise UserError(exc.message) from None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    finally:
        store.close()
    print(f"已记录申请人通过{'短信' if args.channel == 'sms' else '政务服务网'}的评价：{args.business_key} {args.level}。")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("platform", help="参考省平台服务器（演示与测试用）")
    ps = p.add_subparsers(dest="platform_command", metavar="SUBCOMMAND")

    s = ps.add_parser("serve", help="运行参考平台HTTP服务器")
    s.add_argument("--port", type=int, default=8800)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--data", required=True, help="平台数据目录")
    s.add_argument("--token", action="append", help=f"登记凭据（可重复）：{SPEC_HELP}")
    s.add_argument("--seal-key", action="append", help="窗口的印章公钥：中心代码-窗口号=Base64公钥（可重复）")
    s.add_argument("--database-url", help="平台库改用该数据库（SQLAlchemy URL，如 postgresql+psycopg://…）；默认数据目录里的SQLite")
    s.add_argument("--clock-seconds", type=float, default=30.0, help="部门办理每一步的平均耗时（秒）")
    s.add_argument("--tls-cert", help="TLS证书（PEM）")
    s.add_argument("--tls-key", help="TLS私钥（PEM）")
    s.add_argument("--access-log", action="store_true", help="输出访问日志（不含个人信息）")
    s.set_defaults(func=cmd_serve)

    i = ps.add_parser("import", help="导入窗口导出的离线包")
    i.add_argument("bundle", help="离线包文件（*.cvbundle）")
    i.add_argument("--data", required=True, help="平台数据目录")
    i.add_argument("--token", action="append", help=f"补充登记凭据（可重复）：{SPEC_HELP}")
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_import)

    e = ps.add_parser("enrol", help="登记凭据（绑定服务中心、窗口和角色）及窗口印章公钥")
    e.add_argument("--data", required=True, help="平台数据目录")
    e.add_argument("--token", action="append", required=True, help=f"凭据（可重复）：{SPEC_HELP}")
    e.add_argument("--seal-key", action="append", help="窗口的印章公钥：中心代码-窗口号=Base64公钥（可重复）")
    e.add_argument("--database-url", help="平台库所在的数据库（SQLAlchemy URL）")
    e.set_defaults(func=cmd_enrol)

    c = ps.add_parser("cases", help="列出平台收到的办件")
    c.add_argument("--data", required=True)
    c.add_argument("--page", type=int, default=1)
    c.add_argument("--page-size", type=int, default=100)
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_cases)

    r = ps.add_parser("rate", help="记录申请人通过平台渠道（短信链接、政务服务网）的好差评")
    r.add_argument("business_key", help="办件编号/v版本号")
    r.add_argument("level", choices=("非常满意", "满意", "基本满意", "不满意", "非常不满意"))
    r.add_argument("--reason", help="原因（不满意、非常不满意时必填）")
    r.add_argument("--stage", choices=("completion", "acceptance"), default="completion")
    r.add_argument("--channel", choices=("sms", "online"), default="sms")
    r.add_argument("--data", required=True, help="平台数据目录")
    r.set_defaults(func=cmd_rate)
