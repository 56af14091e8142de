"""``counter-app keys|audit|operators|retention …`` — security administration on the command line.

Administrative commands (operators add/unlock, keys rotate, audit archive, retention run) need an
IT administrator: ``--admin USER`` and that administrator's password from the environment
variable ``COUNTER_APP_ADMIN_PASSWORD`` or a prompt. On a fresh install with no active IT
administrator yet, they run as the installer (audited as "installer"), so the first accounts
can be created by a script.

New operator passwords come from ``--password-stdin`` (first line), the environment variable
``COUNTER_APP_PASSWORD``, or a prompt (asked twice).

Exit codes: 0 fine, 1 a verification found a problem, 2 a usage error (UserError).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import getpass
import json
import os
import sys
from pathlib import Path


def _user_error(message: str):
    from counter_app.errors import UserError

    return UserError(message)


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _open(args: argparse.Namespace):
    from counter_app.services import open_window

    return open_window(Path(args.home) if getattr(args, "home", None) else None)


def _admin(window, args: argparse.Namespace, permission):  # noqa: ANN001
    """The administrator running this command (authenticated), or the installer on a fresh install."""
    from counter_app.security import access
    from counter_app.security.operators import INSTALLER

    directory = access.directory(window)
    if not directory.has_admin():
        return INSTALLER
    if not args.admin:
        raise _user_error("本机已有系统管理员账户：请用 --admin 用户名 指定系统管理员，"
                          "并输入其密码（或设置环境变量 COUNTER_APP_ADMIN_PASSWORD）。")
    password = os.environ.get("COUNTER_APP_ADMIN_PASSWORD")
    if password is None:
        password = getpass.getpass(f"系统管理员 {args.admin} 的密码：")
    actor = directory.authenticate(args.admin, password)
    access.require(actor, permission)
    return actor


# ---- keys -----------------------------------------------------------------------------------

def _cmd_keys_rotate(args: argparse.Namespace) -> int:
    from counter_app import audit
    from counter_app.security import recovery, rotation, search_rotation
    from counter_app.security.roles import Permission

    window = _open(args)
    try:
        actor = _admin(window, args, Permission.MANAGE_KEYS)
        if getattr(args, "search_key", False) or search_rotation.in_progress(window):
            # Recomputes every blind index under a new search key, then destroys the old one.
            sr = search_rotation.rotate_search_key(window, operator=actor.username)
            print(("继续完成上次中断的检索密钥轮换。" if sr.resumed else "")
                  + f"已启用第{sr.generation}代检索密钥，重新计算检索索引 {sr.rows} 条，"
                  f"旧检索密钥{'（第' + '、'.join(map(str, sr.retired)) + '代）' if sr.retired else ''}已销毁。")
            if sr.damaged:
                print(f"有 {len(sr.damaged)} 项数据已损坏、无法重新计算索引（原样保留）：{', '.join(sr.damaged[:10])}")
            if not args.data_key and not rotation.in_progress(window):
                return 0
        if args.data_key or rotation.in_progress(window):
            # Re-encrypts every stored blob under a new data key, then destroys the old keys and master.
            report = rotation.rotate_data_keys(
                window, operator=actor.username,
                progress=lambda step: print(f"{rotation.PROGRESS_MARK}{step}", file=sys.stderr, flush=True))
            print(("继续完成上次中断的密钥轮换。" if report.resumed else "")
                  + f"已启用新数据密钥（编号 {report.new_key_id}），重新加密办件数据 {report.rows} 条、附件文件 {report.files} 个，"
                  f"旧数据密钥 {report.retired} 和旧主密钥已销毁（主密钥指纹 {window.vault.master_fingerprint()}）。")
            if report.damaged:
                print(f"有 {len(report.damaged)} 项数据已损坏、无法重新加密（原样保留）：{', '.join(report.damaged[:10])}")
            return 0
        window.vault.rotate_master()
        recovery.refresh(window)
        detail = {"master": window.vault.master_fingerprint()}
        with window.sessions.begin() as s:
            audit.append(s, actor.username, "key_rotate", "master-key", detail)
        print(f"主密钥已轮换，数据密钥已重新包装（主密钥指纹 {detail['master']}）。"
              "如怀疑密钥库副本泄露，请执行 counter-app keys rotate --data-key 重新加密全部数据。")
        return 0
    finally:
        window.close()


def _read_secret(args: argparse.Namespace, prompt: str) -> str:
    """A secret from the first line of standard input (``--stdin``) or a prompt; never from argv."""
    if getattr(args, "stdin", False):
        line = sys.stdin.readline()
        if not line.strip():
            raise _user_error("标准输入中没有内容。")
        return line.strip()
    return getpass.getpass(prompt)


def _cmd_keys_recover(args: argparse.Namespace) -> int:
    from counter_app import audit
    from counter_app.paths import data_home
    from counter_app.security import recovery
    from counter_app.security.keystore import open_keystore
    from counter_app.services import keystore_namespace

    home = Path(args.home) if args.home else data_home()
    key_text = _read_secret(args, "恢复密钥（可含空格或连字符）：")
    keystore = open_keystore(home, keystore_namespace(home))
    info = recovery.recover(home / "counter.sqlite3", keystore, key_text)
    window = _open(args)
    try:
        with window.sessions.begin() as s:
            audit.append(s, "recovery-key", "key_recover", "recovery-key",
                         {"fingerprint": info["fingerprint"], "key_ids": info["key_ids"]})
        recovery.refresh(window)
        print(f"已用恢复密钥恢复本窗口的数据密钥 {window.vault.key_ids}（新主密钥指纹 {window.vault.master_fingerprint()}）。"
              "请核对办件能正常打开。")
        return 0
    finally:
        window.close()


def _cmd_keys_recovery_key(args: argparse.Namespace) -> int:
    from counter_app.security import recovery
    from counter_app.security.roles import Permission

    window = _open(args)
    try:
        actor = _admin(window, args, Permission.MANAGE_KEYS)
        sheet = recovery.issue(window, operator=actor.username)
    finally:
        window.close()
    if args.pdf:
        from printing.recovery_sheet import render_recovery_sheet

        pdf = render_recovery_sheet(key_text=sheet.key_text, qr_payload=sheet.qr_payload,
                                    center_code=sheet.center_code, window_no=sheet.window_no,
                                    fingerprint=sheet.fingerprint, issued_at=sheet.issued_at)
        fd = os.open(args.pdf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pdf)
        print(f"恢复密钥单已写入 {args.pdf}：打印后请立即删除该文件。")
    print("恢复密钥（只显示这一次，请抄写或打印后存放于保险柜；此前的恢复密钥已作废）：")
    print(sheet.key_text)
    print(f"恢复密钥指纹：{sheet.fingerprint}")
    return 0


def _recovery_fingerprint(window) -> str | None:  # noqa: ANN001
    import base64

    from counter_app.security import recovery

    record = recovery.current_record(window)
    return recovery.fingerprint(base64.b64decode(record["public_key"])) if record else None


def _cmd_keys_status(args: argparse.Namespace) -> int:
    window = _open(args)
    try:
        sealer = window.cases.sealer
        info = {"keystore": window.keystore.kind, "algorithm": window.vault.algorithm,
                "data_key_ids": window.vault.key_ids, "master_fingerprint": window.vault.master_fingerprint(),
                "search_key_generation": window.vault.search_generation,
                "seal_algorithm": sealer.algorithm if sealer else None,
                "seal_key_id": sealer.key_id if sealer else None,
                "seal_public_key": sealer.public_key_b64 if sealer else None,
                "recovery_key": _recovery_fingerprint(window)}
        if args.json:
            _print_json(info)
        else:
            print(f"密钥库：{'系统密钥库' if info['keystore'] == 'keyring' else '文件密钥库（仅限测试/演示）'}")
            print(f"加密算法：{info['algorithm']}；数据密钥编号：{info['data_key_ids']}；主密钥指纹：{info['master_fingerprint']}；"
                  f"检索密钥：第{info['search_key_generation']}代")
            print(f"签章：{info['seal_algorithm']}，密钥编号 {info['seal_key_id']}，公钥 {info['seal_public_key']}")
            print(f"恢复密钥：指纹 {info['recovery_key']}" if info["recovery_key"] else
                  "恢复密钥：尚未生成。请执行 counter-app keys recovery-key --pdf 恢复密钥单.pdf，打印后存放于保险柜。")
        return 0
    finally:
        window.close()


# ---- audit ----------------------------------------------------------------------------------

def _checkpoint_mac(window):  # noqa: ANN001
    return lambda text: window.vault.blind_index("audit_checkpoint", text)


def _parse_anchor(text: str | None) -> tuple[int, str] | None:
    if not text:
        return None
    try:
        seq, h = text.split(":", 1)
        return int(seq), h.strip().lower()
    except ValueError:
        raise _user_error("--anchor 的格式应为 序号:哈希，例如 120:3f5a…") from None


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    from counter_app import audit

    anchor = _parse_anchor(args.anchor)
    window = _open(args)
    try:
        with window.sessions() as s:
            report = audit.verify(s, mac=_checkpoint_mac(window), anchor=anchor)
        if args.json:
            _print_json(report.to_dict())
        elif report.ok:
            print(f"审计链完整：第{report.first_seq}至{report.head_seq}条，共{report.entries}条，链头 {report.head}。")
        else:
            print(f"审计链被破坏：{report.message}（第一个断开的链接：第{report.first_broken_seq}条）")
        return 0 if report.ok else 1
    finally:
        window.close()


def _cmd_audit_head(args: argparse.Namespace) -> int:
    from counter_app import audit

    window = _open(args)
    try:
        with window.sessions() as s:
            seq, h = audit.head(s)
        if args.json:
            _print_json({"seq": seq, "hash": h, "algorithm": audit.HASH_ALGORITHM})
        else:
            print(f"{seq}:{h}")
        return 0
    finally:
        window.close()


def _cmd_audit_archive(args: argparse.Namespace) -> int:
    from counter_app import audit
    from counter_app.security.roles import Permission

    if args.months < audit.RETENTION_MONTHS:
        raise _user_error(f"审计记录至少保留{audit.RETENTION_MONTHS}个月，--months 不能小于{audit.RETENTION_MONTHS}。")
    window = _open(args)
    try:
        actor = _admin(window, args, Permission.RUN_RETENTION)
        now = _dt.datetime.now(_dt.timezone.utc)
        cutoff = audit.months_before(now, args.months)
        with window.sessions.begin() as s:
            cp = audit.archive_older_than(s, cutoff, window.home / "audit-archive", mac=_checkpoint_mac(window),
                                          now=now, operator=actor.username)
        if cp is None:
            print(f"没有早于 {cutoff.date()} 的审计记录需要归档。")
        else:
            print(f"已归档第{cp['from_seq']}至{cp['through_seq']}条审计记录到 {window.home / 'audit-archive' / cp['archive_file']}，"
                  f"并留下检查点。")
        return 0
    finally:
        window.close()


# ---- operators ------------------------------------------------------------------------------

def _new_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise _user_error("标准输入中没有密码。")
        return line.rstrip("\r\n")
    env = os.environ.get("COUNTER_APP_PASSWORD")
    if env is not None:
        return env
    first = getpass.getpass(f"为 {args.username} 设置密码：")
    if getpass.getpass("再输入一次：") != first:
        raise _user_error("两次输入的密码不一致。")
    return first


def _cmd_operators_add(args: argparse.Namespace) -> int:
    from counter_app.security import access
    from counter_app.security.roles import Permission, Role

    password = _new_password(args)
    window = _open(args)
    try:
        actor = _admin(window, args, Permission.MANAGE_OPERATORS)
        info = access.directory(window).add(actor, args.username, args.role, args.name, password)
        print(f"已添加账户 {info.username}（{Role(info.role).title}）。")
        return 0
    finally:
        window.close()


def _cmd_operators_list(args: argparse.Namespace) -> int:
    from counter_app.security import access
    from counter_app.security.roles import Role

    window = _open(args)
    try:
        ops = access.directory(window).list()
        now = _dt.datetime.now(_dt.timezone.utc)
        if args.json:
            _print_json([o.to_dict() | {"locked": bool(o.locked_until and o.locked_until > now)} for o in ops])
            return 0
        if not ops:
            print("还没有工作人员账户。")
        for o in ops:
            state = "已停用" if not o.active else ("已锁定" if o.locked_until and o.locked_until > now else "正常")
            print(f"{o.username}\t{o.display_name}\t{Role(o.role).title}\t{state}")
        return 0
    finally:
        window.close()


def _cmd_operators_unlock(args: argparse.Namespace) -> int:
    from counter_app.security import access
    from counter_app.security.roles import Permission

    window = _open(args)
    try:
        actor = _admin(window, args, Permission.MANAGE_OPERATORS)
        access.directory(window).unlock(actor, args.username)
        print(f"账户 {args.username} 已解锁。")
        return 0
    finally:
        window.close()


# ---- retention ------------------------------------------------------------------------------

def _cmd_retention_run(args: argparse.Namespace) -> int:
    from counter_app.cases import Actor
    from counter_app.security.retention import run_retention
    from counter_app.security.roles import Permission

    window = _open(args)
    try:
        actor = _admin(window, args, Permission.RUN_RETENTION)
        report = run_retention(window, actor=Actor(actor.username, actor.role))
        if args.json:
            _print_json(report.to_dict())
        else:
            print(f"已清除{len(report.cases)}件办件的个人信息（{report.rows}个版本），删除附件文件{report.files_deleted}个，"
                  f"因仍被其他办件使用而保留{report.files_kept_shared}个。")
            for e in report.errors:
                print(f"未能清除：{e}")
        return 1 if report.errors else 0
    finally:
        window.close()


# ---- registration ---------------------------------------------------------------------------

def register(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", help="数据目录（默认取环境变量 COUNTER_APP_HOME 或系统用户数据目录）")
    admin = argparse.ArgumentParser(add_help=False)
    admin.add_argument("--admin", metavar="USER", help="执行操作的系统管理员用户名（密码取自 COUNTER_APP_ADMIN_PASSWORD 或提示输入）")

    keys = sub.add_parser("keys", help="密钥管理").add_subparsers(dest="keys_command", metavar="ACTION")
    p = keys.add_parser("rotate", parents=[common, admin], help="轮换主密钥（重新包装数据密钥）")
    p.add_argument("--data-key", action="store_true",
                   help="同时启用新的数据密钥，用它重新加密全部已存数据，然后销毁旧密钥（中断后再次执行即继续）")
    p.add_argument("--search-key", action="store_true",
                   help="启用新的检索密钥，重新计算全部身份证号、电话检索索引，然后销毁旧检索密钥（中断后再次执行即继续；请先关闭程序）")
    p.set_defaults(func=_cmd_keys_rotate)
    p = keys.add_parser("recovery-key", parents=[common, admin], help="生成新的恢复密钥（只显示一次；旧的作废）")
    p.add_argument("--pdf", metavar="FILE.pdf", help="同时生成可打印的恢复密钥单（含二维码）")
    p.set_defaults(func=_cmd_keys_recovery_key)
    p = keys.add_parser("recover", parents=[common], help="密钥库丢失后，用恢复密钥恢复本窗口的数据密钥")
    p.add_argument("--stdin", action="store_true", help="从标准输入第一行读取恢复密钥")
    p.set_defaults(func=_cmd_keys_recover)
    p = keys.add_parser("status", parents=[common], help="显示密钥库、算法和签章公钥")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_keys_status)

    aud = sub.add_parser("audit", help="审计记录").add_subparsers(dest="audit_command", metavar="ACTION")
    p = aud.add_parser("verify", parents=[common], help="核验审计链，报告第一个断开的链接")
    p.add_argument("--json", action="store_true")
    p.add_argument("--anchor", metavar="SEQ:HASH", help="已上报平台的链头（发现末尾记录被删除）")
    p.set_defaults(func=_cmd_audit_verify)
    p = aud.add_parser("head", parents=[common], help="显示审计链头（序号:哈希）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_audit_head)
    p = aud.add_parser("archive", parents=[common, admin], help="把早于N个月的审计记录归档到文件（至少保留6个月）")
    p.add_argument("--months", type=int, default=12)
    p.set_defaults(func=_cmd_audit_archive)

    ops = sub.add_parser("operators", help="工作人员账户").add_subparsers(dest="operators_command", metavar="ACTION")
    p = ops.add_parser("add", parents=[common, admin], help="添加账户")
    p.add_argument("username", metavar="USER")
    p.add_argument("--role", required=True, choices=["clerk", "supervisor", "it_admin"])
    p.add_argument("--name", required=True, help="姓名")
    p.add_argument("--password-stdin", action="store_true", help="从标准输入第一行读取密码")
    p.set_defaults(func=_cmd_operators_add)
    p = ops.add_parser("list", parents=[common], help="列出账户")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_operators_list)
    p = ops.add_parser("unlock", parents=[common, admin], help="解除账户锁定")
    p.add_argument("username", metavar="USER")
    p.set_defaults(func=_cmd_operators_unlock)

    ret = sub.add_parser("retention", help="个人信息到期清除").add_subparsers(dest="retention_command", metavar="ACTION")
    p = ret.add_parser("run", parents=[common, admin], help="清除办结超过保留天数的办件个人信息和附件")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_retention_run)
