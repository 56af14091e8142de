"""Checking an operator's password in a store that cannot be written: a damaged store (opened
read-only), the backup being restored in its place, or a store about to be upgraded (its schema
may be older than this program's models, so plain SQL on the columns every version has).

Nothing is written: no failure count, no lockout, no audit entry; the command audits afterwards,
in the store it leaves behind. An account that is locked or inactive in that store stays refused,
and an unknown user costs the same scrypt work as a wrong password. Used only where the ordinary
login (``operators.OperatorDirectory.authenticate``, which counts failures) cannot write.
"""
from __future__ import annotations

import datetime as _dt
import sqlite3
from pathlib import Path

from counter_app.case_types import Actor
from counter_app.errors import UserError
from counter_app.security import passwords
from counter_app.security.operators import _DUMMY_HASH
from counter_app.security.roles import Permission, Role, allowed, denial_message

WRONG = "用户名或密码错误。"


class OfflineAuthError(UserError):
    pass


def _rows(db: Path, username: str) -> tuple[bool, tuple | None]:
    """(the store has an active IT administrator, the operator's row)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "operators" not in tables:
            return False, None
        has_admin = conn.execute("SELECT count(*) FROM operators WHERE role=? AND active",
                                 (Role.IT_ADMIN.value,)).fetchone()[0] > 0
        row = conn.execute("SELECT username, role, password_hash, active, locked_until FROM operators "
                           "WHERE username=?", (username,)).fetchone()
        return has_admin, row
    finally:
        conn.close()


def has_it_admin(db: Path) -> bool:
    try:
        return _rows(Path(db), "")[0]
    except sqlite3.DatabaseError:
        return False


def verify(db: Path, username: str, password: str, permission: Permission, *,
           now: _dt.datetime | None = None) -> Actor:
    """The operator of store ``db`` with ``permission``, or :class:`OfflineAuthError`."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    try:
        _, row = _rows(Path(db), (username or "").strip())
    except sqlite3.DatabaseError:
        raise OfflineAuthError("无法读取该数据库中的工作人员账户（文件损坏），不能核对密码。请换一个备份。") from None
    if row is None:
        passwords.verify_password(password or "", _DUMMY_HASH)
        raise OfflineAuthError(WRONG)
    name, role, stored, active, locked_until = row
    if not active:
        passwords.verify_password(password or "", _DUMMY_HASH)
        raise OfflineAuthError("该账户已停用，请联系系统管理员。")
    if locked_until:
        until = _dt.datetime.fromisoformat(str(locked_until))
        if until.tzinfo is None:
            until = until.replace(tzinfo=_dt.timezone.utc)
        if until > now:
            passwords.verify_password(password or "", _DUMMY_HASH)
            raise OfflineAuthError("账户已锁定，请稍后再试。")
    if not passwords.verify_password(password or "", stored):
        raise OfflineAuthError(WRONG)
    if not allowed(role, permission):
        raise OfflineAuthError(denial_message(role, permission))
    return Actor(name, role)
