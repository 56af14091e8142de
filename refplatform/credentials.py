"""Who is calling: credentials bound to a center, a window and a role, with the window's seal key.

IT enrols each credential (``counter-app platform enrol``, or ``--credential`` on ``serve``): a
window credential belongs to one center and one window and may write only that window's case
numbers; a supervisor credential belongs to one center and names its supervisor, whose name a
correction's approval must carry. A window's seal public key is registered with its credential
at enrolment — the platform never learns it from the first seal it sees — and every seal is
checked against it.

Only the token's SHA-256 is stored. Every answer the platform gives is about the caller's center
(``Caller.center_code``); requests about another center get ``403 forbidden``.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from counter_app.sync import contract as C
from counter_app.sync.models import Role
from refplatform.errors import PlatformError

SPEC_HELP = ("凭据@中心代码-窗口号（窗口，如 wnd-token-0001@410702-01）或 "
             "凭据@中心代码-supervisor-账户名（审核负责人，如 sup-token-0001@410702-supervisor-supervisor01）")
_CENTER = re.compile(r"[0-9]{6}\Z")
_WINDOW = re.compile(r"(0[1-9]|[1-9][0-9])\Z")
_OPERATOR = re.compile(r"[A-Za-z0-9_.\u4e00-\u9fff-]{1,64}\Z")


@dataclass(frozen=True)
class Enrolment:
    """One credential as IT enrols it."""
    token: str
    center_code: str
    window_no: str | None = None
    role: Role = Role.WINDOW
    operator: str | None = None
    seal_public_key: str | None = None  # base64 of the raw 32-byte Ed25519 key (windows only)

    def __post_init__(self) -> None:
        if len(self.token.strip()) < 8 or any(c.isspace() for c in self.token):
            raise ValueError("凭据至少8个字符，且不含空格。")
        if not _CENTER.match(self.center_code):
            raise ValueError(f"服务中心代码应为6位数字：{self.center_code}")
        if self.role is Role.WINDOW:
            if not self.window_no or not _WINDOW.match(self.window_no):
                raise ValueError(f"窗口号应为01–99：{self.window_no}")
        else:
            if self.window_no is not None:
                raise ValueError("审核负责人凭据不绑定窗口号。")
            if not self.operator or not _OPERATOR.match(self.operator):
                raise ValueError("审核负责人凭据须写明其账户名。")
            if self.seal_public_key:
                raise ValueError("印章公钥只登记在窗口凭据上。")
        if self.seal_public_key is not None:
            check_public_key(self.seal_public_key)

    @classmethod
    def parse(cls, spec: str, *, seal_public_key: str | None = None) -> "Enrolment":
        """``TOKEN@CENTER-WINDOW`` or ``TOKEN@CENTER-supervisor-NAME``."""
        token, at, binding = spec.strip().rpartition("@")
        if not at or not token:
            raise ValueError(f"凭据须绑定服务中心与窗口，格式：{SPEC_HELP}")
        parts = binding.split("-", 2)
        if len(parts) == 2:
            return cls(token, parts[0], parts[1], Role.WINDOW, None, seal_public_key)
        if len(parts) == 3 and parts[1] == "supervisor":
            return cls(token, parts[0], None, Role.SUPERVISOR, parts[2], seal_public_key)
        raise ValueError(f"凭据绑定格式不正确：{binding}。格式：{SPEC_HELP}")


def check_public_key(value: str) -> str:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError("印章公钥应为Ed25519公钥（32字节）的Base64文本，见窗口上“counter-app keys status”显示的签章公钥。")
    return value


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request."""
    label: str
    credential_id: str
    center_code: str
    window_no: str | None
    role: Role
    operator: str | None
    seal_public_key: str | None

    def require_center(self, center_code: str) -> None:
        if center_code != self.center_code:
            raise PlatformError(403, C.E_FORBIDDEN,
                                f"本凭据只属于服务中心{self.center_code}，不能查询或办理其他服务中心的业务。")

    def require_window(self) -> str:
        if self.role is not Role.WINDOW or not self.window_no:
            raise PlatformError(403, C.E_FORBIDDEN, "审核负责人凭据不能办理窗口业务，请使用窗口凭据。")
        return self.window_no

    def require_own_case_no(self, case_no: str) -> None:
        """A first version may be written only by the window whose number is in the case number."""
        window = self.require_window()
        if not case_no.startswith(f"{self.center_code}-{window}-"):
            raise PlatformError(403, C.E_FORBIDDEN,
                                f"本凭据属于{self.center_code}服务中心{window}号窗口，只能上报本窗口编号的办件"
                                f"（收到的办件编号为{case_no[:9]}…）。请核对窗口设置或凭据。")

    def sees_window(self, window_no: str) -> bool:
        """Full case data: a window sees its own cases, a supervisor the whole center's."""
        return self.role is Role.SUPERVISOR or window_no == self.window_no
