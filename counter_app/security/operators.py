"""Operator accounts held locally: unique accounts, scrypt passwords, lockout (等保 2.0 terminal controls).

- :meth:`OperatorDirectory.authenticate` counts failures; after ``lockout_attempts`` consecutive
  failures the account is locked for ``lockout_minutes`` (both from the settings), and while
  locked even the right password is refused. Every attempt is audited (login, login_failed,
  lockout), with the typed user name masked if it looks like an ID or phone number.
- Accounts are managed only by an IT administrator, except the very first accounts on a fresh
  install (no active IT administrator yet), which the installer creates.

Thread contract: each call opens its own write transaction (BEGIN IMMEDIATE), so concurrent
attempts on one account are serialised and the failure count is exact.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import re
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from counter_app import audit
from counter_app.cases import AccessDenied, Actor, CaseError
from counter_app.security import passwords
from counter_app.security.roles import Permission, Role, allowed, denial_message, parse_role
from counter_app.store.models import Operator, Setting
from counter_app.clock import CHINA_TZ

USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{1,31}")
INSTALLER = Actor("installer", "installer")
INVALID_USERNAME = "（无效用户名）"
_UNKNOWN_PREFIX = "login-failures:"

# Verifying against this keeps an unknown user name as slow as a wrong password, so timing
# does not tell which accounts exist.
_DUMMY_HASH = passwords.hash_password("counter-app unknown user")


class AuthenticationError(CaseError):
    """Login refused; the message is safe to show (never says whether the account exists)."""

    def __init__(self, message: str, *, locked_until: _dt.datetime | None = None):
        super().__init__(message)
        self.locked_until = locked_until


class OperatorError(CaseError):
    pass


@dataclass(frozen=True)
class OperatorInfo:
    username: str
    display_name: str
    role: str
    active: bool
    failed_attempts: int
    locked_until: _dt.datetime | None
    created_at: _dt.datetime

    def to_dict(self) -> dict:
        return {"username": self.username, "display_name": self.display_name, "role": self.role,
                "active": self.active, "failed_attempts": self.failed_attempts,
                "locked_until": self.locked_until.isoformat() if self.locked_until else None,
                "created_at": self.created_at.isoformat()}


def _policy_checked_hash(password: str, username: str) -> str:
    """The password policy (等保 2.0), then the scrypt hash; a policy miss is an OperatorError."""
    try:
        passwords.check_policy(password, username)
    except passwords.PasswordPolicyError as exc:
        raise OperatorError(exc.message) from None
    return passwords.hash_password(password)


def _info(op: Operator) -> OperatorInfo:
    return OperatorInfo(op.username, op.display_name, op.role, op.active, op.failed_attempts, op.locked_until,
                        op.created_at)


class OperatorDirectory:
    def __init__(self, sessions: sessionmaker[Session], *, lockout_attempts: int = 5, lockout_minutes: int = 15,
                 clock: Callable[[], _dt.datetime] | None = None):
        self.sessions = sessions
        self.lockout_attempts = max(1, int(lockout_attempts))
        self.lockout_minutes = max(1, int(lockout_minutes))
        self.clock = clock or (lambda: _dt.datetime.now(_dt.timezone.utc))

    # ---- administration --------------------------------------------------------------
    def has_admin(self, s: Session | None = None) -> bool:
        def q(sess: Session) -> bool:
            return sess.execute(select(func.count()).select_from(Operator).where(
                Operator.role == Role.IT_ADMIN.value, Operator.active.is_(True))).scalar_one() > 0
        if s is not None:
            return q(s)
        with self.sessions() as sess:
            return q(sess)

    def _check_admin(self, s: Session, actor: Actor) -> None:
        if actor == INSTALLER:
            if self.has_admin(s):
                raise AccessDenied("已有系统管理员账户，请以系统管理员身份登录后再管理账户。")
            return
        op = s.get(Operator, actor.username)
        if op is None or not op.active or op.role != actor.role or not allowed(op.role, Permission.MANAGE_OPERATORS):
            raise AccessDenied(denial_message(op.role if op else actor.role, Permission.MANAGE_OPERATORS))

    def add(self, actor: Actor, username: str, role: str, display_name: str, password: str) -> OperatorInfo:
        """Create an account. ``actor`` is an IT administrator, or :data:`INSTALLER` on a fresh install."""
        username = (username or "").strip()
        display_name = (display_name or "").strip()
        if not USERNAME.fullmatch(username):
            raise OperatorError("用户名须以字母开头，由2至32位字母、数字、下划线、点或短横线组成。")
        try:
            role_v = parse_role(role)
        except ValueError as exc:
            raise OperatorError(str(exc)) from None
        if not display_name or len(display_name) > 64:
            raise OperatorError("请填写姓名（不超过64个字）。")
        hashed = _policy_checked_hash(password, username)
        with self.sessions.begin() as s:
            self._check_admin(s, actor)
            if s.get(Operator, username) is not None:
                raise OperatorError(f"用户名 {username} 已存在。")
            op = Operator(username=username, display_name=display_name, role=role_v.value, password_hash=hashed,
                          failed_attempts=0, locked_until=None, active=True, created_at=self.clock())
            s.add(op)
            audit.append(s, actor.username, "operator_add", username, {"role": role_v.value}, at=self.clock())
            return _info(op)

    def list(self) -> list[OperatorInfo]:
        with self.sessions() as s:
            return [_info(op) for op in s.execute(select(Operator).order_by(Operator.username)).scalars()]

    def get(self, username: str) -> OperatorInfo | None:
        with self.sessions() as s:
            op = s.get(Operator, username)
            return _info(op) if op else None

    def unlock(self, actor: Actor, username: str) -> OperatorInfo:
        with self.sessions.begin() as s:
            self._check_admin(s, actor)
            op = self._existing(s, username)
            op.failed_attempts = 0
            op.locked_until = None
            audit.append(s, actor.username, "unlock", username, {}, at=self.clock())
            return _info(op)

    def set_role(self, actor: Actor, username: str, role: str) -> OperatorInfo:
        try:
            role_v = parse_role(role)
        except ValueError as exc:
            raise OperatorError(str(exc)) from None
        with self.sessions.begin() as s:
            self._check_admin(s, actor)
            op = self._existing(s, username)
            self._keep_an_admin(s, op, role_v.value, op.active)
            old, op.role = op.role, role_v.value
            audit.append(s, actor.username, "operator_change", username, {"role": [old, op.role]}, at=self.clock())
            return _info(op)

    def set_active(self, actor: Actor, username: str, active: bool) -> OperatorInfo:
        with self.sessions.begin() as s:
            self._check_admin(s, actor)
            op = self._existing(s, username)
            self._keep_an_admin(s, op, op.role, active)
            op.active = bool(active)
            audit.append(s, actor.username, "operator_change", username, {"active": op.active}, at=self.clock())
            return _info(op)

    def reset_password(self, actor: Actor, username: str, new_password: str) -> None:
        """An administrator sets a new password (the old one forgotten); also clears a lockout."""
        hashed = _policy_checked_hash(new_password, username)
        with self.sessions.begin() as s:
            self._check_admin(s, actor)
            op = self._existing(s, username)
            op.password_hash, op.failed_attempts, op.locked_until = hashed, 0, None
            audit.append(s, actor.username, "operator_change", username, {"password": "reset"}, at=self.clock())

    def change_password(self, username: str, old_password: str, new_password: str) -> None:
        """The operator changes their own password (old one required, counts as a login attempt)."""
        actor = self.authenticate(username, old_password)
        hashed = _policy_checked_hash(new_password, username)
        with self.sessions.begin() as s:
            op = self._existing(s, actor.username)
            op.password_hash = hashed
            audit.append(s, actor.username, "operator_change", actor.username, {"password": "changed"}, at=self.clock())

    @staticmethod
    def _existing(s: Session, username: str) -> Operator:
        op = s.get(Operator, username)
        if op is None:
            raise OperatorError(f"没有用户名为 {username} 的账户。")
        return op

    def _keep_an_admin(self, s: Session, op: Operator, new_role: str, new_active: bool) -> None:
        if op.role == Role.IT_ADMIN.value and op.active and (new_role != Role.IT_ADMIN.value or not new_active):
            others = s.execute(select(func.count()).select_from(Operator).where(
                Operator.role == Role.IT_ADMIN.value, Operator.active.is_(True),
                Operator.username != op.username)).scalar_one()
            if others == 0:
                raise OperatorError("这是唯一的系统管理员账户，不能停用或改为其他角色。请先添加另一名系统管理员。")

    # ---- login --------------------------------------------------------------------------
    def authenticate(self, username: str, password: str) -> Actor:
        """The Actor for a correct password on an active, unlocked account; else AuthenticationError."""
        now = self.clock()
        username = (username or "").strip()
        # What was typed into the user-name box goes into the audit only when it has the shape of
        # a user name (ASCII, starting with a letter); anything else may be an ID number or a name.
        subject = username if USERNAME.fullmatch(username) else INVALID_USERNAME
        failure: AuthenticationError | None = None
        with self.sessions.begin() as s:
            op = s.get(Operator, username) if username else None
            if op is None:
                passwords.verify_password(password or "", _DUMMY_HASH)
                failure = self._unknown_user_failure(s, username, subject, now)
            elif not op.active:
                passwords.verify_password(password or "", _DUMMY_HASH)
                audit.append(s, username, "login_failed", username, {"reason": "inactive"}, at=now)
                failure = AuthenticationError("该账户已停用，请联系系统管理员。")
            elif op.locked_until is not None and op.locked_until > now:
                # Same work as a wrong password, so the answer time does not tell a locked account.
                passwords.verify_password(password or "", _DUMMY_HASH)
                audit.append(s, username, "login_failed", username, {"reason": "locked"}, at=now)
                failure = AuthenticationError("账户已锁定，" + _retry_after(op.locked_until), locked_until=op.locked_until)
            elif not passwords.verify_password(password or "", op.password_hash):
                op.failed_attempts = (op.failed_attempts or 0) + 1
                if op.failed_attempts >= self.lockout_attempts:
                    op.locked_until = now + _dt.timedelta(minutes=self.lockout_minutes)
                    op.failed_attempts = 0
                    audit.append(s, username, "login_failed", username, {"reason": "bad_password"}, at=now)
                    audit.append(s, username, "lockout", username,
                                 {"minutes": self.lockout_minutes, "attempts": self.lockout_attempts}, at=now)
                    failure = AuthenticationError(
                        f"密码连续错误{self.lockout_attempts}次，账户已锁定{self.lockout_minutes}分钟，"
                        + _retry_after(op.locked_until), locked_until=op.locked_until)
                else:
                    audit.append(s, username, "login_failed", username,
                                 {"reason": "bad_password", "attempt": op.failed_attempts}, at=now)
                    left = self.lockout_attempts - op.failed_attempts
                    failure = AuthenticationError(f"用户名或密码错误。再错{left}次账户将被锁定{self.lockout_minutes}分钟。")
            else:
                op.failed_attempts = 0
                op.locked_until = None
                if passwords.needs_rehash(op.password_hash):
                    op.password_hash = passwords.hash_password(password)
                audit.append(s, username, "login", username, {"role": op.role}, at=now)
                actor = Actor(op.username, op.role)
        # Raised after the commit: the failure count and the audit entry must be stored.
        if failure is not None:
            raise failure
        return actor

    def _unknown_user_failure(self, s: Session, username: str, subject: str,
                              now: _dt.datetime) -> AuthenticationError:
        """Unknown user names count and lock like accounts, and answer with the same words, so
        guessing names and passwords at once gets nowhere faster and tells nothing about which
        accounts exist. Counts are kept under a hash of the typed name (it may be an ID number)."""
        key = _UNKNOWN_PREFIX + hashlib.sha256(("counter-app login\x00" + username).encode("utf-8")).hexdigest()[:32]
        row = s.get(Setting, key)
        state = dict(row.value) if row is not None and isinstance(row.value, dict) else {"failed": 0, "until": None}
        until = _dt.datetime.fromisoformat(state["until"]) if state.get("until") else None
        if until is not None and until > now:
            audit.append(s, subject, "login_failed", subject, {"reason": "locked"}, at=now)
            return AuthenticationError("账户已锁定，" + _retry_after(until), locked_until=until)
        failed = int(state.get("failed") or 0) + 1
        audit.append(s, subject, "login_failed", subject, {"reason": "unknown_user"}, at=now)
        if failed >= self.lockout_attempts:
            until = now + _dt.timedelta(minutes=self.lockout_minutes)
            state = {"failed": 0, "until": until.isoformat()}
            audit.append(s, subject, "lockout", subject,
                         {"minutes": self.lockout_minutes, "attempts": self.lockout_attempts}, at=now)
            failure = AuthenticationError(f"密码连续错误{self.lockout_attempts}次，账户已锁定{self.lockout_minutes}分钟，"
                                          + _retry_after(until), locked_until=until)
        else:
            state = {"failed": failed, "until": None}
            left = self.lockout_attempts - failed
            failure = AuthenticationError(f"用户名或密码错误。再错{left}次账户将被锁定{self.lockout_minutes}分钟。")
        if row is None:
            s.add(Setting(key=key, value=state))
        else:
            row.value = state
        return failure

    def logout(self, actor: Actor, *, reason: str = "user") -> None:
        with self.sessions.begin() as s:
            audit.append(s, actor.username, "logout", actor.username, {"reason": reason}, at=self.clock())


def _retry_after(until: _dt.datetime) -> str:
    local = until.astimezone(CHINA_TZ)
    return f"请于{local:%H:%M}后重试，或请系统管理员解锁。"
