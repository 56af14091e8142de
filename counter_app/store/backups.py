"""Automatic, verified, encrypted backups of the store, and restoring one.

- Taken with SQLite's online backup API (``upgrade.backup_database``: a consistent copy while the
  window works, ``quick_check`` on the copy), then encrypted whole — the copy also holds what the
  database keeps in clear (operators' password hashes, staff names, audit trail) — with AES-256-GCM
  in 4 MiB chunks under a key derived from the vault's blind-index key, which the recovery key
  also restores. The plaintext copy is overwritten and removed; the backup is written 0600 under
  a temporary name, read back and compared (SHA-256 of the plaintext) before it is renamed:
  a file named like a backup is complete and opens.
- :func:`maybe_backup` takes one when the newest is older than ``max_age`` (the GUI's upkeep
  job calls it off the GUI thread); the newest :data:`KEEP` are kept.
- :func:`restore` decrypts a backup, checks it, and copies it into the store (backup API).

File: b"CVB1" | header length (4) | header JSON | nonce prefix (8) | chunks, each
length (4) + AES-GCM(nonce = prefix + index (4), AD = b"CVB1" + name + index + last flag).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import struct
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from counter_app.errors import UserError

MAGIC = b"CVB1"
CHUNK = 4 * 1024 * 1024
KEEP = 7
FOLDER = "backups"
PREFIX = "auto-"
SUFFIX = ".cbk"


class BackupError(UserError):
    pass


def _key(vault) -> bytes:  # noqa: ANN001 - security.vault.Vault
    return bytes.fromhex(vault.blind_index("backup_file_key", "v1"))


def _ad(name: str, index: int, last: bool) -> bytes:
    return MAGIC + name.encode("utf-8") + struct.pack(">IB", index, 1 if last else 0)


def backups(home: Path) -> list[Path]:
    folder = Path(home) / FOLDER
    return sorted(folder.glob(PREFIX + "*" + SUFFIX), key=lambda p: p.name, reverse=True)


def _shred(path: Path) -> None:
    try:
        size = path.stat().st_size
        with open(path, "r+b") as fh:
            for _ in range(0, size, CHUNK):
                fh.write(b"\0" * min(CHUNK, size))
            os.fsync(fh.fileno())
    except OSError:
        pass
    path.unlink(missing_ok=True)


def _encrypt_file(src: Path, dest: Path, key: bytes, header: dict) -> str:
    """Encrypt ``src`` into ``dest``; returns the SHA-256 of the plaintext."""
    aead = AESGCM(key)
    prefix = os.urandom(8)
    digest = hashlib.sha256()
    size = src.stat().st_size
    head = json.dumps(header, ensure_ascii=False).encode("utf-8")
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out, open(src, "rb") as fh:
        out.write(MAGIC + struct.pack(">I", len(head)) + head + prefix)
        index, done = 0, 0
        while True:
            data = fh.read(CHUNK)
            done += len(data)
            last = done >= size
            digest.update(data)
            body = aead.encrypt(prefix + struct.pack(">I", index), data, _ad(dest.name.split(".tmp")[0], index, last))
            out.write(struct.pack(">I", len(body)) + body)
            index += 1
            if last:
                break
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def _decrypt_to(src: Path, dest: Path | None, key: bytes) -> str:
    """Decrypt backup ``src`` (to ``dest`` when given); returns the plaintext's SHA-256."""
    aead = AESGCM(key)
    digest = hashlib.sha256()
    name = src.name.split(".tmp")[0]
    out = None
    if dest is not None:
        out = os.fdopen(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
    try:
        with open(src, "rb") as fh:
            if fh.read(4) != MAGIC:
                raise BackupError(f"{src.name} 不是本程序的备份文件。")
            (hlen,) = struct.unpack(">I", fh.read(4))
            fh.read(hlen)
            prefix = fh.read(8)
            index = 0
            while True:
                raw = fh.read(4)
                if len(raw) < 4:
                    raise BackupError(f"备份文件 {src.name} 不完整（被截断）。")
                (n,) = struct.unpack(">I", raw)
                body = fh.read(n)
                last = fh.peek(1)[:1] == b""
                try:
                    data = aead.decrypt(prefix + struct.pack(">I", index), body, _ad(name, index, last))
                except InvalidTag:
                    raise BackupError(f"备份文件 {src.name} 无法解密（已损坏、被改动，或属于另一台窗口）。") from None
                digest.update(data)
                if out is not None:
                    out.write(data)
                index += 1
                if last:
                    break
        if out is not None:
            out.flush()
            os.fsync(out.fileno())
    finally:
        if out is not None:
            out.close()
    return digest.hexdigest()


def take_backup(window, *, now: _dt.datetime | None = None) -> Path:  # noqa: ANN001 - services.Window
    """One verified, encrypted backup of the window's store; returns its path."""
    from counter_app.upgrade import backup_database

    now = now or _dt.datetime.now(_dt.timezone.utc)
    folder = window.home / FOLDER
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{PREFIX}{now:%Y%m%d-%H%M%S}{SUFFIX}"
    plain = folder / (name + f".plain.tmp{os.getpid()}")
    sealed = folder / (name + f".tmp{os.getpid()}")
    key = _key(window.vault)
    try:
        backup_database(window.db_path, plain)
        header = {"created_at": now.isoformat(timespec="seconds"), "center_code": window.settings.center_code,
                  "window_no": window.settings.window_no, "size": plain.stat().st_size}
        written = _encrypt_file(plain, sealed, key, header)
        if _decrypt_to(sealed, None, key) != written:  # read back before it counts as a backup
            raise BackupError("备份校验失败：写出的备份与数据库副本不一致。请检查磁盘。")
        os.replace(sealed, folder / name)
    except OSError as exc:
        raise BackupError(f"无法写入数据库备份：{exc.strerror or exc}。请检查磁盘空间。") from None
    finally:
        _shred(plain)
        sealed.unlink(missing_ok=True)
    for old in backups(window.home)[KEEP:]:
        old.unlink(missing_ok=True)
    return folder / name


def maybe_backup(window, *, max_age: _dt.timedelta = _dt.timedelta(hours=24),
                 now: _dt.datetime | None = None) -> Path | None:  # noqa: ANN001
    """A backup when the newest is older than ``max_age`` (or none exists); None otherwise."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    existing = backups(window.home)
    if existing:
        taken = _dt.datetime.fromtimestamp(existing[0].stat().st_mtime, _dt.timezone.utc)
        if now - taken < max_age:
            return None
    return take_backup(window, now=now)


def restore(home: Path, vault, backup: Path, *, check=None) -> None:  # noqa: ANN001
    """Put ``backup`` back as the window's store (the program must not be running).
    ``check(path)`` sees the decrypted, verified copy before it replaces anything (the command
    checks the IT administrator's password against the backup's operators there) and raises to stop."""
    from counter_app.store.health import quick_check
    from counter_app.upgrade import restore_database

    home, backup = Path(home), Path(backup)
    plain = home / FOLDER / f"restore.plain.tmp{os.getpid()}"
    plain.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        _decrypt_to(backup, plain, _key(vault))
        problem = quick_check(plain)
        if problem is not None:
            raise BackupError(f"备份文件 {backup.name} 本身未通过完整性检查（{problem[:80]}），请换一个较早的备份。")
        if check is not None:
            check(plain)
        db = home / "counter.sqlite3"
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        # The damaged store is kept aside (private) for whoever investigates, never replayed.
        for suffix in ("", "-wal", "-shm"):
            old = Path(str(db) + suffix)
            if old.exists():
                os.replace(old, home / FOLDER / f"damaged-{stamp}.sqlite3{suffix}")
        restore_database(plain, db)
        # The restored store is older than the recorded audit head by design: record anew.
        (home / "audit-head.json").unlink(missing_ok=True)
    finally:
        _shred(plain)
