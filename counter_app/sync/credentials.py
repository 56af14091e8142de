"""The window's platform credential (a bearer token issued by the provincial platform).

It lives in the window's key store (the OS keyring in production), never in ``config.toml``.
``COUNTER_APP_PLATFORM_TOKEN``, when set, overrides it (scripted installs, tests, the demo).
"""
from __future__ import annotations

import os

KEY_NAME = "platform-token"
ENV_VAR = "COUNTER_APP_PLATFORM_TOKEN"


def get_token(window) -> str | None:
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env
    raw = window.keystore.get(KEY_NAME)
    if not raw:
        return None
    token = raw.decode("utf-8").strip()
    return token or None


def set_token(window, token: str) -> None:
    token = token.strip()
    if not token:
        raise ValueError("凭据不能为空。")
    if any(c.isspace() for c in token) or not token.isprintable():
        raise ValueError("凭据含有空格或不可见字符，请按平台下发的原文输入。")
    window.keystore.set(KEY_NAME, token.encode("utf-8"))


def token_source(window) -> str:
    """Where the credential in force comes from: "env", "keystore" or "" (none)."""
    if os.environ.get(ENV_VAR, "").strip():
        return "env"
    return "keystore" if window.keystore.get(KEY_NAME) else ""
