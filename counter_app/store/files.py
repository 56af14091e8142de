"""Content-addressed attachment store: scans, photos, signatures, form PDFs.

The file name is the SHA-256 of the plaintext (so the same scan is stored once and a row
holding the hash proves which bytes it means); the content on disk is encrypted with the
vault, bound to that hash. Files are written to a temp name, fsynced, then renamed, so a
crash never leaves a half-written file under a valid name.
"""
from __future__ import annotations

import errno
import hashlib
import os
import shutil
from pathlib import Path

from counter_app.security.vault import DecryptionError, Vault
from counter_app.store.health import DISK_FULL, StoreProblem
from counter_app.store.private import pid_alive

# Kept free for the database (a finalize transaction, the WAL, a backup's temporary file) and
# the logs: a scan that would eat into it is refused before anything is written.
RESERVE_BYTES = 32 * 1024 * 1024


class DiskFull(StoreProblem):
    pass


class AttachmentMissing(Exception):
    pass


class AttachmentCorrupt(Exception):
    pass


class FileStore:
    def __init__(self, root: Path, vault: Vault):
        self.root = root
        self.vault = vault
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.partial_removed = self.remove_partial_files()

    def remove_partial_files(self) -> int:
        """Temporary files of writes that never finished (killed, disk full) by processes that
        no longer run: never a valid attachment (the rename is the commit), so removed."""
        removed = 0
        for sub in os.scandir(self.root):
            if not sub.is_dir(follow_symlinks=False):
                continue
            for entry in os.scandir(sub.path):
                name = entry.name
                i = name.find(".tmp")
                if i < 0:
                    continue
                pid = name[i + 4:]
                if pid.isdigit() and int(pid) != os.getpid() and pid_alive(int(pid)):
                    continue
                try:
                    os.unlink(entry.path)
                    removed += 1
                except FileNotFoundError:
                    pass
        return removed

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.root).free

    def ensure_space(self, needed: int) -> None:
        """Refuse, before writing, what would leave less than :data:`RESERVE_BYTES` free."""
        if self.free_bytes() < needed + RESERVE_BYTES:
            raise DiskFull(DISK_FULL)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_for(digest)
        if path.exists():
            return digest
        self.ensure_space(len(data) + 64)
        path.parent.mkdir(parents=True, exist_ok=True)
        blob = self.vault.encrypt(data, self._ad(digest))
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        try:
            with open(tmp, "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)  # never leave a partial file behind
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFull(DISK_FULL) from None
            raise
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
