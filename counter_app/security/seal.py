"""The window's seal on a finalized case (electronic records with the legal force of paper).

Finalizing computes a digest over the canonical case JSON, which lists every attachment hash
(the form PDF is an attachment with role ``form_pdf``); :meth:`Sealer.seal` signs that digest
together with the attachment hashes with the window's Ed25519 key. The seal dict records the
algorithm and carries the public key, so anyone holding the case JSON and the files can check
it with :func:`verify_seal` and no secret; the reference platform additionally pins which
public key belongs to which window (``trusted_keys``), since a self-made key would otherwise
"verify" a forged seal.

The private key lives in the window's key store (OS keyring), never in the database.
SM2 (GB/T 32918 through ``gmssl``) would be a second entry in ``_VERIFIERS``; it is not
shipped because ``gmssl`` is not a dependency of this project.

Seal dict (JSON)::

    {"v": 1, "alg": "ed25519", "key_id": "<16 hex>", "public_key": "<base64 raw 32 bytes>",
     "digest": "<sha256 hex of the case>", "attachments_sha256": "<sha256 of sorted hashes>",
     "signed_at": "2026-…Z", "signature": "<base64>"}

Thread contract: a Sealer is immutable after construction; ``seal`` may be called from any thread.
"""
from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
from typing import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from counter_app.security.keystore import KeyStoreError
from counter_app.security.vault import KEYS_MISSING

SEAL_VERSION = 1
ALGORITHM = "ed25519"
KEY_NAME = "seal-ed25519-private"
_DOMAIN = b"counter-app/seal/v1\n"


def attachments_digest(attachment_hashes: Iterable[str]) -> str:
    """Order- and duplicate-insensitive digest of the attachment hashes (one file may serve two materials)."""
    unique = sorted({h.lower() for h in attachment_hashes})
    return hashlib.sha256("\n".join(unique).encode("ascii")).hexdigest()


def key_id_of(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def _signed_message(seal: dict) -> bytes:
    body = {k: seal[k] for k in ("v", "alg", "key_id", "digest", "attachments_sha256", "signed_at")}
    return _DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


class Sealer:
    algorithm = ALGORITHM

    def __init__(self, private_key: Ed25519PrivateKey):
        self._key = private_key
        self.public_raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = key_id_of(self.public_raw)

    @classmethod
    def from_keystore(cls, keystore, *, may_create: bool = True) -> "Sealer":  # noqa: ANN001 - security.keystore.KeyStore
        """A new seal key only on first set-up: a window's seal key is enrolled with the platform,
        so a silently replaced one would make every later seal unverifiable."""
        raw = keystore.get(KEY_NAME)
        if raw is None:
            if not may_create:
                raise KeyStoreError(KEYS_MISSING)
            key = Ed25519PrivateKey.generate()
            keystore.set(KEY_NAME, key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))
            return cls(key)
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    @property
    def public_key_b64(self) -> str:
        """What the window registers with the platform (its pinned seal key)."""
        return base64.b64encode(self.public_raw).decode("ascii")

    def seal(self, digest: str, attachment_hashes: list[str], *, at: _dt.datetime | None = None) -> dict:
        at = (at or _dt.datetime.now(_dt.timezone.utc)).astimezone(_dt.timezone.utc)
        seal = {"v": SEAL_VERSION, "alg": ALGORITHM, "key_id": self.key_id, "public_key": self.public_key_b64,
                "digest": digest, "attachments_sha256": attachments_digest(attachment_hashes),
                "signed_at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        seal["signature"] = base64.b64encode(self._key.sign(_signed_message(seal))).decode("ascii")
        return seal


def _verify_ed25519(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


_VERIFIERS = {"ed25519": _verify_ed25519}


def seal_problem(seal: object, digest: str, attachment_hashes: list[str], *,
                 trusted_keys: Iterable[str] | None = None) -> str | None:
    """Why a seal does not hold for this digest and these files (Chinese), or None when it does."""
    if not isinstance(seal, dict):
        return "没有签章。"
    try:
        if seal.get("v") != SEAL_VERSION:
            return f"签章版本不受支持：{seal.get('v')!r}。"
        verifier = _VERIFIERS.get(seal.get("alg"))
        if verifier is None:
            return f"签章算法不受支持：{seal.get('alg')!r}。"
        public_raw = base64.b64decode(seal["public_key"], validate=True)
        signature = base64.b64decode(seal["signature"], validate=True)
        if key_id_of(public_raw) != seal["key_id"]:
            return "签章公钥与密钥编号不符。"
        if trusted_keys is not None and seal["public_key"] not in set(trusted_keys):
            return "签章公钥不是本窗口登记的公钥。"
        if seal["digest"] != digest:
            return "办件内容摘要与签章不符。"
        if seal["attachments_sha256"] != attachments_digest(attachment_hashes):
            return "附件清单与签章不符（附件被增删或替换）。"
        if not verifier(public_raw, signature, _signed_message(seal)):
            return "签名无效（签章被改动）。"
    except (KeyError, TypeError, ValueError, binascii.Error, AttributeError):
        return "签章格式不正确。"
    return None


def verify_seal(seal: dict, digest: str, attachment_hashes: list[str], *,
                trusted_keys: Iterable[str] | None = None) -> bool:
    """True when ``seal`` is a valid signature over ``digest`` and exactly these attachment hashes.

    Needs no private key. ``trusted_keys`` (base64 public keys) pins which keys count; without
    it any well-formed seal carrying its own key verifies, which proves integrity but not origin.
    Never raises on malformed input.
    """
    return seal_problem(seal, digest, attachment_hashes, trusted_keys=trusted_keys) is None
