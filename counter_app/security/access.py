"""Who is at the keyboard: login, the idle lock, logout, and reveals of personal data.

The UI and the CLI call these; the checks themselves live in the core (CaseService and
OperatorDirectory), so hiding a button is never the only thing between a role and an action.

- :func:`authenticate` — password check with lockout (settings ``lockout_attempts``,
  ``lockout_minutes``); raises :class:`AuthenticationError` with a Chinese message.
- :class:`OperatorSession` — one logged-in operator: idle lock after ``idle_lock_minutes``,
  unlock by the same operator's password (failures count towards the lockout), logout.
- :func:`reveal_case` — the full case JSON for an authorised role (supervisor), audited.

Thread contract: all functions block on the database and scrypt (~0.1 s); the GUI calls them
from a worker. An OperatorSession is used from the GUI thread only.
"""
from __future__ import annotations

import datetime as _dt
import threading
from typing import TYPE_CHECKING, Callable

from counter_app import audit
from counter_app.cases import AccessDenied, Actor, CaseError
from counter_app.security.operators import AuthenticationError, OperatorDirectory
from counter_app.security.roles import Permission, allowed, denial_message

if TYPE_CHECKING:  # pragma: no cover
    from counter_app.services import Window

__all__ = ["AccessDenied", "AuthenticationError", "OperatorSession", "authenticate", "directory", "logout",
           "require", "reveal_case"]


def directory(window: "Window", clock: Callable[[], _dt.datetime] | None = None) -> OperatorDirectory:
    st = window.settings
    return OperatorDirectory(window.sessions, lockout_attempts=st.lockout_attempts,
                             lockout_minutes=st.lockout_minutes, clock=clock)


def authenticate(window: "Window", username: str, password: str, *,
                 clock: Callable[[], _dt.datetime] | None = None) -> Actor:
    """Log in; audited as login / login_failed / lockout. Raises AuthenticationError (Chinese message)."""
    return directory(window, clock).authenticate(username, password)


def logout(window: "Window", actor: Actor, *, reason: str = "user") -> None:
    directory(window).logout(actor, reason=reason)


def require(actor: Actor, permission: Permission) -> None:
    """Raise AccessDenied unless the actor's role holds the permission."""
    if not allowed(actor.role, permission):
        raise AccessDenied(denial_message(actor.role, permission))


def reveal_case(window: "Window", actor: Actor, case_no: str, version: int | None = None) -> dict:
    """Full, unmasked case JSON (``CaseService.export`` form) for a supervisor; audited "reveal".

    Raises AccessDenied for other roles and CaseError for an unknown or purged case."""
    require(actor, Permission.REVEAL)
    record = window.cases.get_by_number(case_no, version)
    return window.cases.reveal(record.id, actor)


class OperatorSession:
    """A logged-in operator at the window, with the idle lock (等保 2.0 session timeout).

    The UI calls :meth:`touch` on input events and :meth:`check_idle` from a timer; once
    locked, nothing but :meth:`unlock` with this operator's password (or :meth:`logout`) helps.
    """

    def __init__(self, window: "Window", actor: Actor, *, idle_minutes: int | None = None,
                 clock: Callable[[], _dt.datetime] | None = None):
        self.window = window
        self.actor = actor
        self.clock = clock or (lambda: _dt.datetime.now(_dt.timezone.utc))
        minutes = window.settings.idle_lock_minutes if idle_minutes is None else idle_minutes
        self.idle = _dt.timedelta(minutes=max(1, int(minutes)))
        self._last = self.clock()
        self._locked = False
        self._closed = False
        self._lock = threading.Lock()

    @classmethod
    def login(cls, window: "Window", username: str, password: str, **kw) -> "OperatorSession":  # noqa: ANN003
        return cls(window, authenticate(window, username, password, clock=kw.get("clock")), **kw)

    @property
    def locked(self) -> bool:
        return self._locked or self._closed

    def touch(self) -> None:
        if not self.locked:
            self._last = self.clock()

    def check_idle(self) -> bool:
        """Lock when idle too long (audited once); returns whether the session is locked."""
        with self._lock:
            if not self._locked and not self._closed and self.clock() - self._last >= self.idle:
                self._locked = True
                with self.window.sessions.begin() as s:
                    audit.append(s, self.actor.username, "idle_lock", self.actor.username,
                                 {"minutes": int(self.idle.total_seconds() // 60)}, at=self.clock())
            return self.locked

    def lock(self) -> None:
        """The operator locks the screen on leaving the window."""
        with self._lock:
            if not self._locked and not self._closed:
                self._locked = True
                with self.window.sessions.begin() as s:
                    audit.append(s, self.actor.username, "idle_lock", self.actor.username, {"manual": True},
                                 at=self.clock())

    def unlock(self, password: str) -> None:
        """Only the same operator unlocks; a wrong password counts towards the lockout."""
        if self._closed:
            raise CaseError("已退出登录，请重新登录。")
        actor = authenticate(self.window, self.actor.username, password, clock=self.clock)
        if actor.role != self.actor.role:
            # The role changed while locked: this session's permissions are stale.
            self.logout(reason="role_changed")
            raise AccessDenied("账户角色已变更，请重新登录。")
        self._locked = False
        self._last = self.clock()

    def require(self, permission: Permission) -> Actor:
        """The actor, when the session is usable and the role holds the permission."""
        if self.locked:
            raise AccessDenied("屏幕已锁定，请输入密码解锁。")
        require(self.actor, permission)
        self._last = self.clock()
        return self.actor

    def logout(self, *, reason: str = "user") -> None:
        if not self._closed:
            self._closed = True
            logout(self.window, self.actor, reason=reason)
