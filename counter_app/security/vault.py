"""Encryption at rest (GB/T 35273 storage encryption; PIPL minimum exposure).

- Personal fields and attachment files are sealed with an AEAD cipher: AES-256-GCM (default)
  or SM4-GCM (national algorithm), chosen per installation and recorded in every blob.
- Nonces are 96 random bits per encryption (unique with overwhelming probability at our volumes).
- Associated data binds each blob to where it lives (table, column, row id), so a ciphertext
  copied into another row or column fails to decrypt instead of silently moving data.
- Data keys are random and stored only wrapped (AES-GCM) by the master key from the key store;
  ``rotate_master`` re-wraps them without touching the data (crash-safe: an interrupted rotation
  is completed at the next start); ``rotate_data_key`` starts a new data key for new writes,
  old blobs keep opening with the key id they carry.
- Lookup without plaintext: a keyed blind index (HMAC-SHA256 with its own key) of normalised values.
  The search indexes (ID number, phone) use a *search key* that ``keys rotate --search-key``
  replaces (``search_rotation``); generation 0 is the original blind-index key, which also keys
  the integrity MACs (audit head, checkpoints, backup file key) and is never rotated, since
  checkpoint MACs inside the audit chain cannot be recomputed. Which generation the stored
  indexes are under is recorded in the database (``search_generation``), set at every open.

Blob layout: b"CV1" | alg (1) | key id (4, big-endian) | nonce (12) | ciphertext+tag.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import struct
import threading
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from counter_app.security.keystore import KeyStore, KeyStoreError, new_key

MAGIC = b"CV1"
ALG_AES_GCM = 1
ALG_SM4_GCM = 2
ALGORITHMS = {"aes-256-gcm": ALG_AES_GCM, "sm4-gcm": ALG_SM4_GCM}
ALG_SEARCH = 0xFF  # a wrap entry holding a search key; its id is the generation
SEARCH_KINDS = frozenset({"id_number", "phone"})  # blind indexes stored in searchable columns


KEYS_MISSING = (
    "此数据目录中已有加密的办件数据，但密钥库中缺少对应的密钥（密钥文件被删除、清空或截断，或系统密钥库被重置）。"
    "程序没有生成新密钥，也没有改动任何数据。请技术人员：从备份恢复密钥库，"
    "或用设置时打印的恢复密钥执行 counter-app keys recover。")


class DecryptionError(Exception):
    """Ciphertext that does not open: tampered, moved, or the wrong key."""


def _sm4_gcm_encrypt(key: bytes, nonce: bytes, data: bytes, ad: bytes) -> bytes:
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(ad)
    return enc.update(data) + enc.finalize() + enc.tag


def _sm4_gcm_decrypt(key: bytes, nonce: bytes, data: bytes, ad: bytes) -> bytes:
    if len(data) < 16:
        raise InvalidTag()
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, data[-16:])).decryptor()
    dec.authenticate_additional_data(ad)
    return dec.update(data[:-16]) + dec.finalize()


@dataclass
class _DataKey:
    key_id: int
    alg: int
    key: bytes


# Wrapped key list, version 2: b"K2" then per data key: id (4) | alg (1) | len (1) | key | len (1) | blind-index key.
# Version 1 (no prefix) had fixed 69-byte entries and could not hold 16-byte SM4 keys.
_WRAP_V2 = b"K2"
_WRAP_AD = b"counter-app data keys"
KEY_SIZES = {ALG_AES_GCM: 32, ALG_SM4_GCM: 16}


class Vault:
    """Encrypts and decrypts; thread-safe (AEAD objects are created per call; key changes hold a lock)."""

    WRAP_NAME = "wrapped-data-keys"
    MASTER_NAME = "master-key"
    # A master rotation in progress: the new master is stored here first, so a crash between
    # the key store writes always leaves one master that opens the stored wrap.
    PENDING_NAME = "pending-master-key"

    def __init__(self, keystore: KeyStore, *, algorithm: str = "aes-256-gcm", may_create: bool = True):
        """``may_create`` is False once the store holds encrypted data: missing keys are then
        refused (:data:`KEYS_MISSING`), never replaced, so nothing is written under keys that
        cannot open what is already there."""
        if algorithm not in ALGORITHMS:
            raise KeyStoreError(f"未知的加密算法：{algorithm}（可选 aes-256-gcm、sm4-gcm）。")
        self._may_create = may_create
        self._ks = keystore
        self._lock = threading.Lock()
        self._keys: dict[int, _DataKey] = {}
        self._search: dict[int, bytes] = {}  # generation -> search key (generation 0 is the blind-index key)
        self.search_generation = 0           # which one the stored indexes use (``search_rotation.activate``)
        self._master = self._open_master()
        self._load_or_create(ALGORITHMS[algorithm])

    @classmethod
    def reader(cls, keystore: KeyStore) -> "Vault":
        """A vault that only decrypts and never writes to the key store: for reading the store
        while the full services are still opening (``counter_app.queries``). Refuses with
        :class:`KeyStoreError` whatever the full open would repair or create (no master, a master
        rotation to finish, no wrapped data keys): that is for :class:`Vault` itself to handle."""
        master = keystore.get(cls.MASTER_NAME)
        wrapped = keystore.get(cls.WRAP_NAME)
        if master is None or not wrapped or keystore.get(cls.PENDING_NAME) is not None:
            raise KeyStoreError("密钥库需要先由完整启动处理（首次设置或未完成的主密钥轮换）。")
        vault = cls.__new__(cls)
        vault._may_create = False
        vault._ks = keystore
        vault._lock = threading.Lock()
        vault._master = master
        vault._keys = vault._unwrap_all(wrapped, master)
        return vault

    # ---- key management --------------------------------------------------------
    def _open_master(self) -> bytes:
        master = self._ks.get(self.MASTER_NAME)
        pending = self._ks.get(self.PENDING_NAME)
        wrapped = self._ks.get(self.WRAP_NAME)
        if master is None:
            if wrapped:
                # Encrypted data may exist; inventing a new master would orphan it.
                raise KeyStoreError("密钥库中有加密的数据密钥但缺少主密钥，无法解密已存数据。请联系技术人员从备份恢复密钥库。")
            if not self._may_create:
                raise KeyStoreError(KEYS_MISSING)
            master = new_key(32)
            self._ks.set(self.MASTER_NAME, master)
            return master
        if wrapped and pending is not None and not self._opens(wrapped, master) and self._opens(wrapped, pending):
            # Crashed after writing the new wrap but before the new master: finish the rotation.
            self._ks.set(self.MASTER_NAME, pending)
            master = pending
        if pending is not None:
            self._ks.delete(self.PENDING_NAME)
        return master

    @staticmethod
    def _opens(blob: bytes, master: bytes) -> bool:
        try:
            AESGCM(master).decrypt(blob[:12], blob[12:], _WRAP_AD)
            return True
        except (InvalidTag, ValueError):
            return False

    def _unwrap_all(self, blob: bytes, master: bytes) -> dict[int, _DataKey]:
        nonce, body = blob[:12], blob[12:]
        try:
            plain = AESGCM(master).decrypt(nonce, body, _WRAP_AD)
        except (InvalidTag, ValueError):
            raise KeyStoreError("无法解开数据密钥：主密钥不匹配或密钥文件被改动。请联系技术人员恢复密钥库。") from None
        keys: dict[int, _DataKey] = {}
        if plain.startswith(_WRAP_V2):
            i = len(_WRAP_V2)
            while i < len(plain):
                kid, alg, klen = struct.unpack(">IBB", plain[i:i + 6])
                i += 6
                key = plain[i:i + klen]
                i += klen
                blen = plain[i]
                bidx = plain[i + 1:i + 1 + blen]
                i += 1 + blen
                if alg == ALG_SEARCH:
                    self._search[kid] = key
                    continue
                keys[kid] = _DataKey(kid, alg, key)
                keys[-kid] = _DataKey(-kid, 0, bidx)  # blind-index key lives at the negative id
            return keys
        for i in range(0, len(plain), 4 + 1 + 32 + 32):
            chunk = plain[i:i + 69]
            kid, alg = struct.unpack(">IB", chunk[:5])
            keys[kid] = _DataKey(kid, alg, chunk[5:37])
            keys[-kid] = _DataKey(-kid, 0, chunk[37:69])
        return keys

    def _plain_keys(self) -> bytes:
        parts = [_WRAP_V2]
        for k in sorted(self._keys.values(), key=lambda x: x.key_id):
            if k.key_id <= 0:
                continue
            bidx = self._keys[-k.key_id].key
            parts.append(struct.pack(">IBB", k.key_id, k.alg, len(k.key)) + k.key + bytes([len(bidx)]) + bidx)
        for gen, key in sorted(self._search.items()):
            parts.append(struct.pack(">IBB", gen, ALG_SEARCH, len(key)) + key + b"\x00")
        return b"".join(parts)

    @staticmethod
    def _wrap_plain(plain: bytes, master: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(master).encrypt(nonce, plain, _WRAP_AD)

    def _wrap_all(self, master: bytes) -> bytes:
        return self._wrap_plain(self._plain_keys(), master)

    def export_key_material(self) -> bytes:
        """The data keys in the clear, for sealing to the recovery key only (never stored as is)."""
        return self._plain_keys()

    @classmethod
    def install_key_material(cls, keystore: KeyStore, material: bytes) -> None:
        """Recovery: the data keys under a fresh master. Wrap first, then master: a crash in
        between leaves a master that does not open the wrap, and recovery is simply run again."""
        if not material.startswith(_WRAP_V2):
            raise KeyStoreError("恢复数据格式不正确。")
        master = new_key(32)
        keystore.set(cls.WRAP_NAME, cls._wrap_plain(material, master))
        keystore.set(cls.MASTER_NAME, master)
        keystore.delete(cls.PENDING_NAME)

    def destroy_data_keys(self, key_ids: list[int]) -> None:
        """Remove retired data keys (after every blob was re-encrypted) and re-wrap the rest under
        a new master, so a copy of the old key store opens neither the new wrap nor the data."""
        with self._lock:
            current = self._current().key_id
            keys = {k: v for k, v in self._keys.items() if abs(k) not in key_ids or abs(k) == current}
            self._keys = keys
        self.rotate_master()

    # ---- search keys ------------------------------------------------------------
    @property
    def search_generations(self) -> list[int]:
        return sorted(self._search)

    def add_search_key(self) -> int:
        """A new search key, stored (wrapped) before it is used; returns its generation."""
        with self._lock:
            gen = max(self._search, default=0) + 1
            search = dict(self._search)
            search[gen] = new_key(32)
            self._search = search
            self._ks.set(self.WRAP_NAME, self._wrap_all(self._master))
            return gen

    def destroy_search_keys(self, keep: int) -> None:
        """Every search key but ``keep`` leaves the key store; the rest is re-wrapped under a new
        master, so an old copy of the key store opens neither the new wrap nor the retired keys."""
        with self._lock:
            self._search = {g: k for g, k in self._search.items() if g == keep}
        self.rotate_master()

    def _search_key(self, generation: int) -> bytes:
        if generation == 0:
            keys = self._keys
            return keys[-max(k for k in keys if k > 0)].key
        key = self._search.get(generation)
        if key is None:
            raise KeyStoreError(f"密钥库中缺少第{generation}代检索密钥（数据库的检索索引使用它）。"
                                "请技术人员从备份恢复密钥库，或用恢复密钥执行 counter-app keys recover。")
        return key

    def search_token(self, kind: str, value: str, generation: int) -> str:
        """The blind index of ``value`` under a given search generation (rotation computes the new ones)."""
        return hmac.new(self._search_key(generation), f"{kind}\x1f{value}".encode("utf-8"), hashlib.sha256).hexdigest()

    def _add_data_key(self, alg: int) -> _DataKey:
        kid = max([k for k in self._keys if k > 0], default=0) + 1
        key = _DataKey(kid, alg, new_key(KEY_SIZES[alg]))
        # The blind-index key stays the same across data-key changes, or lookups of old rows break.
        bidx = self._keys[-(kid - 1)].key if kid > 1 else new_key(32)
        # Copy and swap: other threads keep iterating the old dict while encrypting.
        keys = dict(self._keys)
        keys[kid] = key
        keys[-kid] = _DataKey(-kid, 0, bidx)
        self._keys = keys
        return key

    def _load_or_create(self, alg: int) -> None:
        wrapped = self._ks.get(self.WRAP_NAME)
        if wrapped:
            self._keys = self._unwrap_all(wrapped, self._master)
        elif not self._may_create:
            raise KeyStoreError(KEYS_MISSING)
        if not self._keys or self._current().alg != alg:
            self._add_data_key(alg)
            self._ks.set(self.WRAP_NAME, self._wrap_all(self._master))

    def _current(self) -> _DataKey:
        keys = self._keys
        return keys[max(k for k in keys if k > 0)]

    def rotate_master(self) -> None:
        """New master key; data keys re-wrapped. Data itself is unchanged.

        Crash-safe order: pending master, then the new wrap, then the master, then drop the
        pending entry. At every point one stored master opens the stored wrap, and
        ``_open_master`` completes an interrupted rotation. The old master is not kept.
        """
        with self._lock:
            master = new_key(32)
            wrapped = self._wrap_all(master)
            self._ks.set(self.PENDING_NAME, master)
            self._ks.set(self.WRAP_NAME, wrapped)
            self._ks.set(self.MASTER_NAME, master)
            self._ks.delete(self.PENDING_NAME)
            self._ks.delete("previous-master-key")  # left behind by earlier versions of this module
            self._master = master

    def rotate_data_key(self) -> int:
        """Start a new data key for new writes (old blobs keep opening with their key id).
        Returns the new key id."""
        with self._lock:
            key = self._add_data_key(self._current().alg)
            self._ks.set(self.WRAP_NAME, self._wrap_all(self._master))
            return key.key_id

    @property
    def key_ids(self) -> list[int]:
        return sorted(k for k in self._keys if k > 0)

    def master_fingerprint(self) -> str:
        """Short SHA-256 of the master key: lets IT staff see that a rotation happened without revealing it."""
        return hashlib.sha256(b"counter-app master fingerprint\x00" + self._master).hexdigest()[:16]

    @property
    def algorithm(self) -> str:
        return {ALG_AES_GCM: "aes-256-gcm", ALG_SM4_GCM: "sm4-gcm"}[self._current().alg]

    # ---- fields ---------------------------------------------------------------
    @staticmethod
    def associated_data(table: str, column: str, row_id: str) -> bytes:
        return f"{table}\x1f{column}\x1f{row_id}".encode()

    def encrypt(self, plaintext: bytes, ad: bytes) -> bytes:
        key = self._current()
        nonce = os.urandom(12)
        if key.alg == ALG_AES_GCM:
            body = AESGCM(key.key).encrypt(nonce, plaintext, ad)
        else:
            body = _sm4_gcm_encrypt(key.key, nonce, plaintext, ad)
        return MAGIC + struct.pack(">BI", key.alg, key.key_id) + nonce + body

    def decrypt(self, blob: bytes, ad: bytes) -> bytes:
        if not blob or blob[:3] != MAGIC or len(blob) < 3 + 5 + 12 + 16:
            raise DecryptionError("密文格式不正确")
        alg, kid = struct.unpack(">BI", blob[3:8])
        key = self._keys.get(kid)
        if key is None or key.alg != alg:
            raise DecryptionError("找不到对应的数据密钥")
        nonce, body = blob[8:20], blob[20:]
        try:
            if alg == ALG_AES_GCM:
                return AESGCM(key.key).decrypt(nonce, body, ad)
            return _sm4_gcm_decrypt(key.key, nonce, body, ad)
        except InvalidTag:
            raise DecryptionError("数据校验失败（被改动或位置不符）") from None

    def encrypt_field(self, table: str, column: str, row_id: str, value: str) -> bytes:
        return self.encrypt(value.encode("utf-8"), self.associated_data(table, column, row_id))

    def decrypt_field(self, table: str, column: str, row_id: str, blob: bytes) -> str:
        return self.decrypt(blob, self.associated_data(table, column, row_id)).decode("utf-8")

    def blind_index(self, kind: str, value: str) -> str:
        """HMAC of a normalised value; equal inputs give equal tokens, nothing else leaks.
        ``kind`` separates uses (``id_number``, ``phone``, ``audit_checkpoint``): one value never
        gives the same token under two kinds. The searchable kinds use the active search key."""
        if kind in SEARCH_KINDS:
            return self.search_token(kind, value, self.search_generation)
        keys = self._keys
        key = keys[-max(k for k in keys if k > 0)].key
        return hmac.new(key, f"{kind}\x1f{value}".encode("utf-8"), hashlib.sha256).hexdigest()
