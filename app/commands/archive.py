"""``counter-app archive verify|export`` and ``counter-app signing status|unlock-test|sign|selftest``.

- ``archive verify CASE`` checks a case in this window's store (seal, digest, files);
  ``archive verify DIR`` checks an archival package offline, per DA/T 70 四性.
- ``archive export CASE -o DIR`` writes the package (signed documents, attachments, manifest).
- ``signing …`` drives the center's PDF signatures from the command line (IT, scripts).

The PIN (or PKCS#12 password) is asked with a hidden prompt, or read from the environment
variable ``COUNTER_APP_SIGNING_PIN`` for unattended runs; it is never written anywhere.

Exit codes: 0 fine, 1 a verification or the signing found a problem, 2 a usage error.
"""
from __future__ import annotations

import argparse
import getpass
import json
import os
from pathlib import Path

from counter_app.errors import UserError


def _open(args: argparse.Namespace):
    from app.commands.common import open_window_or_fail

    if getattr(args, "home", None):
        os.environ["COUNTER_APP_HOME"] = args.home
    return open_window_or_fail()


def _pin(service) -> None:  # noqa: ANN001 - app.signing.service.SigningService
    if not service.keys.configured:
        raise UserError("本窗口尚未配置签章密钥（设置中的 signing_key_kind 等项），请IT先配置。")
    secret = os.environ.get("COUNTER_APP_SIGNING_PIN")
    if secret is None:
        secret = getpass.getpass("签章密钥的PIN码（或证书文件密码）：")
    outcome = service.unlock(secret)
    if not outcome.ok:
        raise UserError(outcome.message)


def _trust_roots(path: str | None):
    if not path:
        return None
    from printing.pdf_verify import load_certificates

    try:
        return load_certificates(Path(path).read_bytes())
    except OSError:
        raise UserError(f"找不到信任根证书文件：{path}") from None
    except ValueError:
        raise UserError(f"信任根证书文件格式不正确：{path}") from None


def _cmd_verify(args: argparse.Namespace) -> int:
    target = Path(args.target)
    if target.is_dir():
        return _verify_package(args, target)
    from app.archive_check import verify_stored_case
    from counter_app.cases import CaseError

    window = _open(args)
    try:
        roots = _trust_roots(args.trust_root or window.settings.signing_trust_root or None)
        try:
            report = verify_stored_case(window, args.target, args.version, roots)
        except CaseError as exc:
            raise UserError(exc.message) from None
        _print_report(report, args.json, f"办件 {report.case_no}：")
        return 0 if report.ok else 1
    finally:
        window.close()


def _print_report(report, as_json: bool, lead: str) -> None:  # noqa: ANN001 - app.archive_check.PackageReport
    from app.archive_check import PROPERTIES

    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    for prop in PROPERTIES:
        checks = [c for c in report.checks if c.prop == prop]
        print(f"{prop}：{'通过' if report.prop_ok(prop) else '不通过'}（{len(checks)}项检查）")
        for c in checks:
            print(f"  [{ {True: '通过', False: '失败', None: '不适用'}[c.ok] }] {c.subject}：{c.message}")
    print(lead + ("核验通过。" if report.ok else "核验失败，有问题的项目：" + "、".join(report.failed_files)))


def _verify_package(args: argparse.Namespace, directory: Path) -> int:
    from app.archive_check import verify_package

    report = verify_package(directory, _trust_roots(args.trust_root), use_pdfsig=not args.no_pdfsig)
    _print_report(report, args.json, f"办件 {report.case_no} 归档包：")
    return 0 if report.ok else 1


def _cmd_export(args: argparse.Namespace) -> int:
    from app.archive_package import PackageError, export_case
    from app.signing.keys import KeyUnavailable
    from app.signing.service import SigningService

    window = _open(args)
    try:
        service = SigningService(window)
        _pin(service)
        service.drain_now()  # sign what still waits for this window's key first
        try:
            manifest = export_case(window, service.keys, args.case_no, Path(args.output), version=args.version)
        except (PackageError, KeyUnavailable) as exc:
            raise UserError(exc.message) from None
        print(f"已导出办件 {manifest['case_no']} 第{manifest['version']}版归档包到 {args.output}"
              f"（{len(manifest['files'])}个文件，清单已签名）。")
        return 0
    finally:
        window.close()


def _cmd_signing_status(args: argparse.Namespace) -> int:
    from app.signing.service import SigningService

    window = _open(args)
    try:
        service = SigningService(window)
        q = service.queue_summary()
        if args.json:
            print(json.dumps({"configured": service.keys.configured, "waiting": q.waiting, "signed": q.signed,
                              "oldest_waiting_at": q.oldest_waiting_at, "last_error": q.last_error},
                             ensure_ascii=False, indent=2, default=str))
        else:
            print(service.describe())
            print(service.status_text())
        return 0
    finally:
        window.close()


def _cmd_signing_sign(args: argparse.Namespace) -> int:
    from app.signing.service import SigningService

    window = _open(args)
    try:
        service = SigningService(window)
        _pin(service)
        status = service.drain_now()
        print(f"本次签章{status.signed_now}份，仍待签{status.waiting}份。" + (status.problem or ""))
        return 0 if not status.problem else 1
    finally:
        window.close()


def _cmd_signing_selftest(args: argparse.Namespace) -> int:
    from app.signing.service import SigningService

    window = _open(args)
    try:
        service = SigningService(window)
        _pin(service)
        outcome = service.self_test()
        for line in outcome.details:
            print("  " + line)
        print(outcome.message)
        return 0 if outcome.ok else 1
    finally:
        window.close()


def register(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", help="数据目录（默认 COUNTER_APP_HOME 或系统数据目录）")

    arc = sub.add_parser("archive", help="电子档案：核验、导出归档包").add_subparsers(dest="archive_command", metavar="ACTION")
    p = arc.add_parser("verify", parents=[common],
                       help="核验本机办件（办件编号）或归档包目录（按DA/T 70 真实性、完整性、可用性、安全性）")
    p.add_argument("target", metavar="CASE_NO|DIR")
    p.add_argument("--version", type=int, help="版本号（默认最新已定稿版本）")
    p.add_argument("--trust-root", help="信任根证书（PEM/DER）；核验归档包时默认使用包内 trust/root.pem")
    p.add_argument("--no-pdfsig", action="store_true", help="不用 poppler pdfsig 做第二套核验")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_verify)
    p = arc.add_parser("export", parents=[common], help="导出办件归档包（需签章密钥签署清单）")
    p.add_argument("case_no", metavar="CASE_NO")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="新目录")
    p.add_argument("--version", type=int, help="版本号（默认最新已定稿版本）")
    p.set_defaults(func=_cmd_export)

    sig = sub.add_parser("signing", help="中心电子签章（PDF签名）").add_subparsers(dest="signing_command", metavar="ACTION")
    p = sig.add_parser("status", parents=[common], help="签章密钥和待签数量")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_signing_status)
    p = sig.add_parser("sign", parents=[common], help="输入PIN码，签署队列中等待的文件")
    p.set_defaults(func=_cmd_signing_sign)
    p = sig.add_parser("selftest", parents=[common], help="用配置的密钥签一张样张并用两套程序核验")
    p.set_defaults(func=_cmd_signing_selftest)
