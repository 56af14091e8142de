"""Helpers every command module shares: open the window's store, read input files, print JSON."""
from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

from counter_app.errors import UserError


def open_window_or_fail():
    """The window's core services, or a one-line Chinese message when keys or settings are wrong."""
    from counter_app.config import ConfigError
    from counter_app.security.keystore import KeyStoreError
    from counter_app.services import open_window

    import sys

    try:
        window = open_window()
    except (KeyStoreError, ConfigError) as exc:
        raise UserError(exc.message) from None
    if window.damage:
        print(f"警告：{window.damage}", file=sys.stderr)
    return window


def read_json(path: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"找不到文件：{path}") from None
    except UnicodeDecodeError:
        raise UserError(f"文件不是UTF-8编码的文本：{path}") from None
    except OSError as exc:
        raise UserError(f"无法读取文件 {path}：{exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"文件不是有效的JSON（第{exc.lineno}行第{exc.colno}列）：{path}") from None


def parse_date(text: str, what: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise UserError(f"{what}格式不正确：{text!r}（应为 YYYY-MM-DD，如 2026-11-30）") from None


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# ---- who runs a command that changes data or settings -----------------------------------------

PASSWORD_ENV = "COUNTER_APP_OPERATOR_PASSWORD"


def add_operator_arguments(parser, *, stdin: bool = True) -> None:  # noqa: ANN001 - argparse parser
    """``--user`` (and ``--password-stdin`` where standard input is free): the operator running the command."""
    parser.add_argument("--user", metavar="USER", help="执行此操作的工作人员账户（密码在提示时输入）")
    if stdin:
        parser.add_argument("--password-stdin", action="store_true", help="从标准输入第一行读取该账户的密码")


def _password(args, username: str) -> str:  # noqa: ANN001
    import getpass
    import os
    import sys

    if getattr(args, "password_stdin", False):
        line = sys.stdin.readline()
        if not line:
            raise UserError("标准输入中没有密码。")
        return line.rstrip("\r\n")
    # For scripts: the environment is private to the process owner, unlike the command line.
    for name in (PASSWORD_ENV, "COUNTER_APP_ADMIN_PASSWORD"):
        value = os.environ.get(name)
        if value is not None:
            return value
    try:
        return getpass.getpass(f"{username} 的密码：")
    except EOFError:
        raise UserError("需要输入密码：请在终端中运行，或用 --password-stdin 从标准输入提供。") from None


def authenticate_operator(window, args, permission, *, installer_ok: bool = False):  # noqa: ANN001
    """The authenticated operator allowed ``permission`` (roles matrix), for the audit trail.

    ``installer_ok``: on a fresh install with no IT administrator yet, set-up commands run as the
    installer (audited as such), so a window can be configured before accounts exist."""
    from counter_app.case_types import Actor
    from counter_app.security import access
    from counter_app.security.operators import INSTALLER

    directory = access.directory(window)
    username = getattr(args, "user", None) or getattr(args, "admin", None)
    if installer_ok and not username and not directory.has_admin():
        return INSTALLER
    if not username:
        raise UserError("此命令会修改数据或设置，须以有权限的工作人员账户执行：请加 --user 用户名"
                        "（密码在提示时输入，或用 --password-stdin 从标准输入读取）。")
    actor = directory.authenticate(username, _password(args, username))  # refusals are UserErrors
    access.require(actor, permission)
    return Actor(actor.username, actor.role)


def authenticate_it_offline(db, args, permission):  # noqa: ANN001
    """The IT administrator of store file ``db``, checked without writing to it (a damaged store,
    a backup about to be restored, a store about to be upgraded: ``security.offline_auth``).
    While that store has no IT administrator (a fresh install) the installer runs the command."""
    from counter_app.security import offline_auth
    from counter_app.security.operators import INSTALLER

    username = getattr(args, "user", None)
    if not offline_auth.has_it_admin(db):
        return INSTALLER
    if not username:
        raise UserError("此命令会替换或改动本机数据库，须由系统管理员执行：请加 --user 用户名"
                        "（密码在提示时输入，或用 --password-stdin 从标准输入读取）。")
    return offline_auth.verify(db, username, _password(args, username), permission)  # UserError when refused
