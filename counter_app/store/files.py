"""Content-addressed attachment store: scans, photos, signatures, form PDFs.

The file name is the SHA-256 of the plaintext (so the same scan is stored once and a row
holding the hash proves which bytes it means); the content on disk is encrypted with the
vault, bound to that hash. Files are written to a temp name, fsynced, then renamed, so a
crash never leaves a half-written file under a valid name.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from counter_app.security.vault import DecryptionError, Vault


class AttachmentMissing(Exception):
    pass


class AttachmentCorrupt(Exception):
    pass


class FileStore:
    def __init__(self, root: Path, vault: Vault):
        self.root = root
        self.vault = vault
        root.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_for(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        blob = self.vault.encrypt(data, self._ad(digest))
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        with open(tmp, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return digest

    def replace_blob(self, path: Path, blob: bytes) -> None:
        """Swap a stored file's ciphertext (key rotation): temp file, fsync, atomic rename."""
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def get(self, sha256: str) -> bytes:
        path = self.path_for(sha256)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise AttachmentMissing(f"附件文件丢失：{sha256[:12]}…") from None
        try:
            data = self.vault.decrypt(blob, self._ad(sha256))
        except DecryptionError:
            raise AttachmentCorrupt(f"附件文件已损坏或被改动：{sha256[:12]}…") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise AttachmentCorrupt(f"附件内容与摘要不符：{sha256[:12]}…")
        return data

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    def delete(self, sha256: str) -> None:
        try:
            self.path_for(sha256).unlink()
        except FileNotFoundError:
            pass

    @staticmethod
    def _ad(sha256: str) -> bytes:
        return Vault.associated_data("attachments", "file", sha256)
