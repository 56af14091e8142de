"""Commands for IT staff deploying and supporting windows: ``configure``, ``selftest``,
``diagnostics export`` and ``db backup``.

Loaded by ``app.cli`` through :func:`register`. Everything here runs headless; the Qt
check of ``selftest`` runs in a child process (``selftest --qt-probe``) because Qt aborts a process
whose platform plugin cannot load, and the abort must become a sentence, not a crash.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from app.commands.common import add_operator_arguments, authenticate_operator
from counter_app.errors import UserError

for _stream in (sys.stdout, sys.stderr):
    # A Windows console or a CI pipe may not be UTF-8: Chinese must never become a traceback.
    try:
        _stream.reconfigure(errors="replace")  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        pass


def _home(args: argparse.Namespace) -> Path:
    if getattr(args, "home", None):
        os.environ["COUNTER_APP_HOME"] = str(Path(args.home).resolve())
    from counter_app.paths import data_home

    return data_home()


def _add_home(p: argparse.ArgumentParser) -> None:
    p.add_argument("--home", metavar="DIR", help="数据目录（默认：本机用户数据目录或 COUNTER_APP_HOME）")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("configure", help="按站点配置文件配置本窗口（无人值守安装）",
                       description="读取站点配置文件（TOML），写入本窗口的配置；平台凭据保存到系统密钥库。")
    p.add_argument("--from", dest="site_file", required=True, metavar="SITE.toml", help="站点配置文件")
    p.add_argument("--check", action="store_true", help="只检查文件，不做任何修改")
    p.add_argument("--recovery-sheet", metavar="FILE.pdf", help="首次配置时生成的恢复密钥单（含二维码）写入此文件")
    add_operator_arguments(p)
    _add_home(p)
    p.set_defaults(func=cmd_configure)

    p = sub.add_parser("selftest", help="安装自检（资源、数据库、密钥库、图形界面），0=通过 1=失败")
    _add_home(p)
    p.add_argument("--json", action="store_true", help="以JSON输出")
    p.add_argument("--no-qt", action="store_true", help="不检查图形界面")
    p.add_argument("--qt-probe", metavar="PLATFORM", help=argparse.SUPPRESS)  # child-process half of the Qt check
    p.set_defaults(func=cmd_selftest)

    diag = sub.add_parser("diagnostics", help="诊断信息").add_subparsers(dest="diagnostics_command", metavar="ACTION")
    p = diag.add_parser("export", help="导出诊断信息（不含个人信息）到ZIP文件")
    p.add_argument("file", metavar="FILE.zip")
    add_operator_arguments(p)
    p.add_argument("--with-qt", action="store_true", help="同时检查图形界面（较慢）")
    p.add_argument("--device-timeout", type=float, default=20.0, help="设备查询最长等待秒数")
    _add_home(p)
    p.set_defaults(func=cmd_diagnostics_export)

    _register_db_backup(sub)


def _register_db_backup(sub: argparse._SubParsersAction) -> None:
    """``db backup FILE``: added to the core's ``db`` group when it exists (it is registered first)."""
    db_parser = sub.choices.get("db")
    if db_parser is None:
        db_actions = sub.add_parser("db", help="本机数据库").add_subparsers(dest="db_command", metavar="ACTION")
    else:
        db_actions = next((a for a in db_parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if db_actions is None or "backup" in db_actions.choices:
            return
    p = db_actions.add_parser("backup", help="在线备份本机数据库到文件（SQLite 备份接口，运行中也可用）")
    p.add_argument("file", metavar="FILE")
    _add_home(p)
    add_operator_arguments(p)
    p.set_defaults(func=cmd_db_backup)
    p = db_actions.add_parser("restore", help="用自动备份（加密、已校验）恢复本机数据库（先关闭程序）")
    p.add_argument("file", metavar="BACKUP.cbk", nargs="?", help="备份文件（默认最近一次自动备份）")
    _add_home(p)
    add_operator_arguments(p)
    p.set_defaults(func=cmd_db_restore)


# ---------------------------------------------------------------- handlers

def cmd_configure(args: argparse.Namespace) -> int:
    from counter_app.site_config import apply_site_config, load_site_file

    site = load_site_file(Path(args.site_file))  # SiteConfigError is a UserError
    if args.check:
        print(f"站点配置文件检查通过：{len(site.settings)} 个配置项"
              + ("，含平台凭据" if site.credential else "") + (f"，{len(site.printers)} 台打印机" if site.printers else "")
              + "。未做任何修改。")
        return 0
    from counter_app.security.roles import Permission
    from counter_app.services import open_window

    home = _home(args)
    try:
        window = open_window(home)
        try:
            # Settings change only for an authenticated IT administrator (the installer on a fresh install).
            actor = authenticate_operator(window, args, Permission.CHANGE_SETTINGS, installer_ok=True)
            applied = apply_site_config(home, site, operator=actor.username, window=window)
            sheet = _first_recovery_key(window, actor.username, args.recovery_sheet)
        finally:
            window.close()
    except UserError:
        raise
    except OSError as exc:
        raise UserError(f"无法写入数据目录 {home}：{exc.strerror or exc}。请检查磁盘空间和权限。") from None
    except Exception as exc:
        message = getattr(exc, "message", None)  # KeyStoreError, ConfigError: already a sentence
        if message:
            raise UserError(message) from None
        raise
    print(applied.summary())
    if sheet is not None:
        print("本窗口的恢复密钥（只显示这一次；密钥库丢失时用 counter-app keys recover 恢复数据，请打印后存放于保险柜）：")
        print(sheet.key_text)
        if args.recovery_sheet:
            print(f"恢复密钥单（含二维码）已写入 {args.recovery_sheet}：打印后请立即删除该文件。")
    if site.credential and _mentions_inline_credential(Path(args.site_file)):
        print("提醒：站点配置文件中含有平台凭据原文，配置完成后请删除该文件或妥善保管。")
    return 0


def _first_recovery_key(window, operator: str, sheet_path: str | None):  # noqa: ANN001
    """At set-up a window gets its recovery key (once: later ones come from ``keys recovery-key``)."""
    from counter_app.security import recovery

    if recovery.current_record(window) is not None:
        return None
    sheet = recovery.issue(window, operator=operator)
    if sheet_path:
        from printing.recovery_sheet import render_recovery_sheet

        pdf = render_recovery_sheet(key_text=sheet.key_text, qr_payload=sheet.qr_payload,
                                    center_code=sheet.center_code, window_no=sheet.window_no,
                                    fingerprint=sheet.fingerprint, issued_at=sheet.issued_at)
        with os.fdopen(os.open(sheet_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
            fh.write(pdf)
    return sheet


def _mentions_inline_credential(path: Path) -> bool:
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return False
    platform = data.get("platform") if isinstance(data, dict) else None
    return isinstance(platform, dict) and bool(platform.get("credential"))


def cmd_selftest(args: argparse.Namespace) -> int:
    if args.qt_probe:
        import importlib

        crash = importlib.import_module("ui.crash")
        print(json.dumps(crash.probe_qt_platform(args.qt_probe), ensure_ascii=False))
        return 0
    from app.diagnostics import FAIL, format_checks, run_selftest

    checks = run_selftest(_home(args), qt=not args.no_qt)
    if args.json:
        print(json.dumps([c.as_dict() for c in checks], ensure_ascii=False, indent=2))
    else:
        print(format_checks(checks))
    return 1 if any(c.status == FAIL for c in checks) else 0


def cmd_diagnostics_export(args: argparse.Namespace) -> int:
    from app.diagnostics import export_diagnostics

    from counter_app.security.roles import Permission
    from counter_app.services import open_window

    dest = Path(args.file)
    home = _home(args)
    try:
        window = open_window(home)
    except Exception:  # noqa: BLE001 - a store that cannot open is what diagnostics are for; it is reported inside
        window = None
    if window is not None:
        try:
            operator = authenticate_operator(window, args, Permission.VERIFY_AUDIT, installer_ok=True).username
        finally:
            window.close()
    else:
        operator = "unauthenticated"
    try:
        result = export_diagnostics(home, dest, operator=operator, device_timeout=args.device_timeout,
                                    qt=args.with_qt)
    except OSError as exc:
        raise UserError(f"无法写入诊断文件 {dest}：{exc.strerror or exc}。请换一个位置（如U盘或桌面）。") from None
    print(f"诊断信息已导出：{result.path}（{len(result.members)} 个文件，不含个人信息）")
    if result.problems:
        print("以下部分未能收集（已在文件中注明）：" + "；".join(result.problems))
    return 0


def cmd_db_restore(args: argparse.Namespace) -> int:
    """Restore by an IT administrator: of the current store while it opens undamaged (the ordinary
    login, failures counted); of the backup being restored when the current store is damaged (its
    passwords cannot be checked, or not trusted), checked on the decrypted copy before anything is
    replaced. The backup opens only with this window's keys. The restore is audited afterwards."""
    from counter_app import audit
    from counter_app.security.keystore import KeyStoreError, open_keystore
    from counter_app.security.roles import Permission
    from counter_app.security.vault import Vault
    from counter_app.services import keystore_namespace, open_window
    from counter_app.store.backups import BackupError, backups, restore

    from app.commands.common import authenticate_it_offline

    home = _home(args)
    chosen = Path(args.file) if args.file else next(iter(backups(home)), None)
    if chosen is None or not chosen.is_file():
        raise UserError("没有找到可用的自动备份（数据目录下 backups 文件夹）。请指定备份文件。")
    actor = None
    try:
        current = open_window(home)
    except Exception:  # noqa: BLE001 - too damaged to open at all: the backup's operators decide
        current = None
    if current is not None:
        try:
            if current.damage is None:
                actor = authenticate_operator(current, args, Permission.CHANGE_SETTINGS, installer_ok=True)
        finally:
            current.close()

    def check(plain: Path) -> None:
        nonlocal actor
        if actor is None:
            actor = authenticate_it_offline(plain, args, Permission.CHANGE_SETTINGS)

    try:
        vault = Vault(open_keystore(home, keystore_namespace(home)), may_create=False)
        restore(home, vault, chosen, check=check)
    except (BackupError, KeyStoreError) as exc:
        raise UserError(exc.message) from None
    window = open_window(home)
    try:
        with window.sessions.begin() as s:
            audit.append(s, actor.username, "restore", chosen.name, {"from": chosen.name})
        count = window.cases.count()
    finally:
        window.close()
    print(f"已用备份 {chosen.name} 恢复本机数据库（{count} 件办件）。损坏的数据库已移到 backups 文件夹备查。"
          "请与省平台核对备份之后受理的办件（counter-app sync verify）。")
    return 0


def cmd_db_backup(args: argparse.Namespace) -> int:
    """By an IT administrator: the copy holds every operator's password hash and every encrypted
    case, as sensitive as the store. A damaged store is checked without writing to it."""
    from counter_app import audit
    from counter_app.security.roles import Permission
    from counter_app.services import open_window
    from counter_app.upgrade import backup_database

    from app.commands.common import authenticate_it_offline

    home = _home(args)
    dest = Path(args.file)
    if dest.exists():
        raise UserError(f"目标文件已存在：{dest}。为避免覆盖，请换一个文件名。")
    window = open_window(home)
    try:
        if window.damage is None:
            actor = authenticate_operator(window, args, Permission.CHANGE_SETTINGS, installer_ok=True)
        else:
            actor = authenticate_it_offline(home / "counter.sqlite3", args, Permission.CHANGE_SETTINGS)
        try:
            backup_database(home / "counter.sqlite3", dest)
        except OSError as exc:
            raise UserError(f"无法写入备份文件 {dest}：{exc.strerror or exc}。") from None
        if window.damage is None:
            with window.sessions.begin() as s:
                audit.append(s, actor.username, "backup", dest.name, {"kind": "manual"})
    finally:
        window.close()
    print(f"数据库已备份到：{dest}（{dest.stat().st_size // 1024} KB）。"
          "备份中的个人信息仍是加密的，但请像对待原数据一样保管，用完及时删除。")
    return 0
