"""The recovery key: the way back when the key store is lost (dead disk, reinstalled OS keyring).

At set-up IT is shown a recovery key once (text, and a QR code for the sheet kept in the
center's safe). It is an X25519 private key; the window keeps only its public half. The data
keys and the seal key are sealed to that public key (ephemeral X25519, HKDF-SHA256, AES-256-GCM)
and the sealed blob is stored *in the database* (``settings``), so it travels with every backup.
Because sealing needs only the public key, the blob is refreshed after every key change without
the recovery key being present. ``recover`` opens the blob with the recovery key and installs the
keys under a new master in the key store; nothing else changes.

Text form: 35 bytes (key + 3 check bytes of SHA-256) in Base32, 14 groups of 4 characters.
"""
from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import os
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from counter_app.clock import CHINA_TZ
from counter_app.security.keystore import KeyStore, KeyStoreError
from counter_app.security.seal import KEY_NAME as SEAL_KEY_NAME
from counter_app.security.vault import Vault

SETTING_KEY = "key_recovery"
QR_PREFIX = "COUNTER-APP-RECOVERY:"
_INFO = b"counter-app recovery v1"


@dataclass(frozen=True)
class RecoverySheet:
    """What IT prints for the safe: the key as text and as a QR payload, and which window it opens."""

    key_text: str
    qr_payload: str
    center_code: str
    window_no: str
    fingerprint: str
    issued_at: str  # Beijing time, as printed


def _raw(private: X25519PrivateKey) -> bytes:
    return private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def _pub_raw(public: X25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def encode_key(raw: bytes) -> str:
    text = base64.b32encode(raw + hashlib.sha256(raw).digest()[:3]).decode("ascii").rstrip("=")
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def decode_key(text: str) -> bytes:
    cleaned = text.strip()
    if cleaned.startswith(QR_PREFIX):
        cleaned = cleaned[len(QR_PREFIX):]
    cleaned = "".join(ch for ch in cleaned.upper() if ch.isalnum())
    try:
        data = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (ValueError, TypeError):
        data = b""
    if len(data) != 35 or hashlib.sha256(data[:32]).digest()[:3] != data[32:]:
        raise KeyStoreError("恢复密钥不正确（长度或校验位不符）：请逐组核对恢复密钥单上的字符后重试。")
    return data[:32]


def fingerprint(public_raw: bytes) -> str:
    return hashlib.sha256(b"counter-app recovery fingerprint\x00" + public_raw).hexdigest()[:16]


def _hkdf(shared: bytes, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO).derive(shared)


def seal_to(public_raw: bytes, plaintext: bytes) -> bytes:
    eph = X25519PrivateKey.generate()
    eph_pub = _pub_raw(eph.public_key())
    key = _hkdf(eph.exchange(X25519PublicKey.from_public_bytes(public_raw)), eph_pub + public_raw)
    nonce = os.urandom(12)
    return eph_pub + nonce + AESGCM(key).encrypt(nonce, plaintext, _INFO + public_raw)


def open_sealed(private_raw: bytes, blob: bytes) -> bytes:
    private = X25519PrivateKey.from_private_bytes(private_raw)
    public_raw = _pub_raw(private.public_key())
    eph_pub, nonce, body = blob[:32], blob[32:44], blob[44:]
    key = _hkdf(private.exchange(X25519PublicKey.from_public_bytes(eph_pub)), eph_pub + public_raw)
    try:
        return AESGCM(key).decrypt(nonce, body, _INFO + public_raw)
    except InvalidTag:
        raise KeyStoreError("恢复密钥与本数据目录不匹配（或恢复数据被改动）：请确认使用的是本窗口的恢复密钥单。") from None


def _material(vault: Vault, keystore: KeyStore) -> bytes:
    keys = vault.export_key_material()
    seal = keystore.get(SEAL_KEY_NAME) or b""
    return struct.pack(">I", len(keys)) + keys + seal


def _split(material: bytes) -> tuple[bytes, bytes]:
    (n,) = struct.unpack(">I", material[:4])
    return material[4:4 + n], material[4 + n:]


def current_record(window) -> dict | None:  # noqa: ANN001 - services.Window
    from counter_app.store.models import Setting

    with window.sessions() as s:
        row = s.get(Setting, SETTING_KEY)
        return dict(row.value) if row is not None and isinstance(row.value, dict) else None


def _store_record(session, record: dict) -> None:  # noqa: ANN001
    from counter_app.store.models import Setting

    row = session.get(Setting, SETTING_KEY)
    if row is None:
        session.add(Setting(key=SETTING_KEY, value=record))
    else:
        row.value = record


def issue(window, *, operator: str) -> RecoverySheet:  # noqa: ANN001 - services.Window
    """A new recovery key (the previous one stops working). The key text exists only in the result."""
    from counter_app import audit

    private = X25519PrivateKey.generate()
    public_raw = _pub_raw(private.public_key())
    at = _dt.datetime.now(_dt.timezone.utc)
    now = at.isoformat(timespec="seconds")
    record = {"public_key": base64.b64encode(public_raw).decode(), "issued_at": now,
              "blob": base64.b64encode(seal_to(public_raw, _material(window.vault, window.keystore))).decode(),
              "key_ids": window.vault.key_ids}
    fp = fingerprint(public_raw)
    with window.sessions.begin() as s:
        _store_record(s, record)
        audit.append(s, operator, "recovery_key_issue", "recovery-key", {"fingerprint": fp})
    text = encode_key(_raw(private))
    return RecoverySheet(text, QR_PREFIX + text.replace("-", ""), window.settings.center_code,
                         window.settings.window_no, fp, f"{at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}")


def refresh(window) -> bool:  # noqa: ANN001 - services.Window
    """Re-seal the current keys to the issued recovery key after a key change. False if none issued."""
    record = current_record(window)
    if record is None:
        return False
    public_raw = base64.b64decode(record["public_key"])
    record["blob"] = base64.b64encode(seal_to(public_raw, _material(window.vault, window.keystore))).decode()
    record["key_ids"] = window.vault.key_ids
    with window.sessions.begin() as s:
        _store_record(s, record)
    return True


def read_record(db_path: Path) -> dict:
    """The sealed record straight from the database file (the window cannot open without keys)."""
    if not db_path.exists():
        raise KeyStoreError(f"找不到数据库 {db_path}：请先从备份恢复数据库文件，再执行恢复。")
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (SETTING_KEY,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise KeyStoreError(f"无法读取数据库中的恢复数据：{exc}。请先从备份恢复数据库文件。") from None
    if row is None:
        raise KeyStoreError("此数据目录从未生成恢复密钥，无法用恢复密钥恢复。请从备份恢复密钥库。")
    return json.loads(row[0])


def recover(db_path: Path, keystore: KeyStore, key_text: str) -> dict:
    """Install the data keys and the seal key from the sealed record under a new master."""
    private_raw = decode_key(key_text)
    record = read_record(db_path)
    public_raw = base64.b64decode(record["public_key"])
    if _pub_raw(X25519PrivateKey.from_private_bytes(private_raw).public_key()) != public_raw:
        raise KeyStoreError("这不是本数据目录当前的恢复密钥（可能已被新的恢复密钥取代）：请使用最近一次打印的恢复密钥单。")
    keys, seal = _split(open_sealed(private_raw, base64.b64decode(record["blob"])))
    Vault.install_key_material(keystore, keys)
    if seal:
        keystore.set(SEAL_KEY_NAME, seal)
    return {"key_ids": record.get("key_ids"), "fingerprint": fingerprint(public_raw)}
