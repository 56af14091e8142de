"""Operator passwords: scrypt (memory-hard), a per-password salt, constant-time comparison.

Stored form: ``scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>``, so the cost can be raised later
and old hashes still verify (:func:`needs_rehash` says when to upgrade at the next login).
Cost N=2^15, r=8, p=1 takes 32 MiB and about 0.1 s per attempt on a counter PC: fine once per
login, expensive for someone guessing offline.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

from counter_app.errors import UserError

LOG2_N = 15
R = 8
P = 1
DKLEN = 32
MIN_LENGTH = 8


class PasswordPolicyError(UserError, ValueError):
    """The message is Chinese and says what to do (see ``counter_app.errors``)."""


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=DKLEN,
                          maxmem=n * r * 128 * 2 + 1024 * 1024)


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = _scrypt(password, salt, LOG2_N, R, P)
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"scrypt${LOG2_N}${R}${P}${b64(salt)}${b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, log2_n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(log2_n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    parts = stored.split("$")
    return len(parts) != 6 or parts[0] != "scrypt" or (parts[1], parts[2], parts[3]) != (str(LOG2_N), str(R), str(P))


def check_policy(password: str, username: str = "") -> None:
    """等保 2.0 identification: passwords of some length and complexity, not the user name."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"密码至少需要{MIN_LENGTH}位。")
    classes = sum([any(c.isdigit() for c in password), any(c.isalpha() and c.isascii() for c in password),
                   any(not c.isalnum() for c in password)])
    if classes < 2:
        raise PasswordPolicyError("密码须包含字母、数字、符号中的至少两类。")
    if username and username.lower() in password.lower():
        raise PasswordPolicyError("密码不能包含用户名。")
