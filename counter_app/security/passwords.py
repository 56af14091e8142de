"""Operator passwords: scrypt (memory-hard), a per-password salt, constant-time comparison.

Policy (NIST SP 800-63B 5.1.1.2, which 等保 2.0's "complexity" is read against here): Unicode
NFKC normalisation (a full-width or no-break-space variant is the same password), at least 8
characters not counting leading or trailing spaces, at most 128, not mostly one repeated
character, not a commonly used password or base word (``resources/security/common-passwords.txt``),
not containing the user name. No composition rules: they make passwords harder to remember, not
harder to guess.

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
import unicodedata
from functools import lru_cache

from counter_app.errors import UserError
from counter_app.paths import resource_path

LOG2_N = 15
R = 8
P = 1
DKLEN = 32
MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_DISTINCT = 5


class PasswordPolicyError(UserError, ValueError):
    """The message is Chinese and says what to do (see ``counter_app.errors``)."""


def normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resource_path("security/common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=DKLEN,
                          maxmem=n * r * 128 * 2 + 1024 * 1024)


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = _scrypt(normalise(password), salt, LOG2_N, R, P)
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"scrypt${LOG2_N}${R}${P}${b64(salt)}${b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, log2_n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        params = (base64.b64decode(salt), int(log2_n), int(r), int(p))
        if hmac.compare_digest(_scrypt(normalise(password), *params), expected):
            return True
        # Hashes made before normalisation was introduced hold the raw form.
        return normalise(password) != password and hmac.compare_digest(_scrypt(password, *params), expected)
    except (ValueError, TypeError):
        return False


def needs_rehash(stored: str) -> bool:
    parts = stored.split("$")
    return len(parts) != 6 or parts[0] != "scrypt" or (parts[1], parts[2], parts[3]) != (str(LOG2_N), str(R), str(P))


def check_policy(password: str, username: str = "") -> None:
    """Refuse passwords that are short, padded, repetitive, common or contain the user name."""
    p = normalise(password)
    core = p.strip()
    if len(core) < MIN_LENGTH:
        raise PasswordPolicyError(f"密码至少需要{MIN_LENGTH}位（首尾空格不计）。")
    if len(p) > MAX_LENGTH:
        raise PasswordPolicyError(f"密码不能超过{MAX_LENGTH}位。")
    if len(set(core)) < MIN_DISTINCT:
        raise PasswordPolicyError(f"密码不能主要由重复的字符组成（至少需要{MIN_DISTINCT}个不同的字符）。")
    lowered = core.lower()
    base = lowered.strip("0123456789 !@#$%^&*()_+-=[]{};:'\",.<>/?\\|`~")
    common = common_passwords()
    if lowered in common or (len(base) >= 3 and base in common):
        raise PasswordPolicyError("这个密码太常见，容易被猜中，请换一个（可用几个词组成的较长短语）。")
    if username and username.lower() in lowered:
        raise PasswordPolicyError("密码不能包含用户名。")
