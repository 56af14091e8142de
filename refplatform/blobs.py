"""Attachment files of the reference platform, by SHA-256, one folder per center.

A center sees only what its own windows uploaded: knowing a photo's hash is not having the photo,
so a hash held by another center is ``absent`` here until this center uploads the bytes itself.
An upload in progress is a ``.part`` file whose size is the resume offset; the bytes are written
as they arrive (never the whole body in memory) and the hash is verified before the file takes its
final name.

Thread contract: one BlobStore per center, shared by the server's worker threads; an upload holds
the hash's lock from ``begin`` to ``finish``/``abort`` (possibly released on another thread).
"""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Iterable

from counter_app.sync import contract as C
from refplatform.errors import PlatformError


class OffsetMismatch(Exception):
    def __init__(self, offset: int):
        super().__init__(offset)
        self.offset = offset


def _too_large() -> PlatformError:
    return PlatformError(413, C.E_TOO_LARGE, f"附件超过{C.MAX_ATTACHMENT_BYTES // (1024 * 1024)}MB上限。")


class Upload:
    """One ``PUT`` being written: ``write`` each chunk as it arrives, then ``finish`` (or ``abort``)."""

    def __init__(self, blobs: "BlobStore", sha256: str, start: int, expected: int | None, total: int | None,
                 lock: threading.Lock):
        self.blobs, self.sha256, self.start = blobs, sha256, start
        self.expected, self.total, self._lock = expected, total, lock
        self.written = 0
        self.already_held = blobs.held(sha256)
        self._fh = None
        if not self.already_held:
            part = blobs.part(sha256)
            part.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(part, "ab")

    def write(self, chunk: bytes) -> None:
        if not chunk or self._fh is None:
            return
        self.written += len(chunk)
        limit = self.expected if self.expected is not None else C.MAX_ATTACHMENT_BYTES
        if self.written > limit or self.start + self.written > C.MAX_ATTACHMENT_BYTES:
            self.abort()
            if self.expected is not None:
                raise PlatformError(422, C.E_INVALID_REQUEST, "Content-Range 与请求体长度不符。")
            raise _too_large()
        self._fh.write(chunk)

    def abort(self) -> None:
        """Take back what this request wrote: the part file is as long as it was before it."""
        try:
            if self._fh is not None:
                self._fh.truncate(self.start)
                self._fh.close()
                self._fh = None
        finally:
            self._release()

    def finish(self) -> dict:
        try:
            if self._fh is None:
                return self.blobs.state(self.sha256)
            if self.expected is not None and self.written != self.expected:
                self._fh.truncate(self.start)
                raise PlatformError(422, C.E_INVALID_REQUEST, "Content-Range 与请求体长度不符。")
            total = self.total if self.total is not None else self.start + self.written
            if total == 0:
                raise PlatformError(422, C.E_ATTACHMENT_HASH, "附件为空文件，平台不接收空附件。")
            received = self.start + self.written
            self._fh.flush()
            if received < total:
                return {"sha256": self.sha256, "state": "partial", "received": received}
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None
            return self.blobs._complete(self.sha256)
        finally:
            if self._fh is not None:
                self._fh.close()
                self._fh = None
            self._release()

    def _release(self) -> None:
        if self._lock.locked():
            self._lock.release()


class BlobStore:
    """Attachment files of one center, with resumable uploads."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def part(self, sha256: str) -> Path:
        return self.root / sha256[:2] / (sha256 + ".part")

    def _lock(self, sha256: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(sha256, threading.Lock())

    def held(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def state(self, sha256: str) -> dict:
        if self.held(sha256):
            size = self.path(sha256).stat().st_size
            return {"sha256": sha256, "state": "complete", "received": size, "size": size}
        try:
            received = self.part(sha256).stat().st_size
            return {"sha256": sha256, "state": "partial", "received": received}
        except FileNotFoundError:
            return {"sha256": sha256, "state": "absent", "received": 0}

    def partial_uploads(self) -> list[str]:
        return sorted(p.name[:-5] for p in self.root.glob("*/*.part"))

    def begin(self, sha256: str, start: int, *, end: int | None = None, total: int | None = None) -> Upload:
        """Open an upload of bytes ``start..end`` (inclusive) of a file of ``total`` bytes; without a
        range the body is the whole file. Raises OffsetMismatch when ``start`` is not where we are."""
        if total is not None and total > C.MAX_ATTACHMENT_BYTES:
            raise _too_large()
        if total is not None and (start < 0 or (end is not None and (end < start or end >= total)) or start > total):
            raise PlatformError(422, C.E_INVALID_REQUEST, "上传范围不正确（Content-Range 超出文件长度）。")
        lock = self._lock(sha256)
        lock.acquire()
        try:
            if not self.held(sha256):
                part = self.part(sha256)
                current = part.stat().st_size if part.exists() else 0
                if total is not None and current > total:  # a leftover of an attempt with another length
                    part.unlink()
                    current = 0
                if start != current:
                    raise OffsetMismatch(current)
            expected = (end - start + 1) if end is not None else (0 if total is not None else None)
            return Upload(self, sha256, start, expected, total, lock)
        except BaseException:
            lock.release()
            raise

    def append(self, sha256: str, start: int, data: bytes, total: int) -> dict:
        """The whole body at once (bundle import, tests)."""
        upload = self.begin(sha256, start, end=start + len(data) - 1 if data else None, total=total)
        if not data:
            upload.expected = 0
        try:
            upload.write(data)
        except BaseException:
            upload.abort()
            raise
        return upload.finish()

    def _complete(self, sha256: str) -> dict:
        part = self.part(sha256)
        digest = hashlib.sha256()
        with open(part, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != sha256:
            part.unlink(missing_ok=True)
            raise PlatformError(422, C.E_ATTACHMENT_HASH,
                                f"附件{sha256[:12]}…的内容与其SHA-256摘要不符，平台已丢弃，请重新上传。")
        os.replace(part, self.path(sha256))
        return self.state(sha256)

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def chunks(self, sha256: str, size: int = 1 << 16) -> Iterable[bytes]:
        with open(self.path(sha256), "rb") as fh:
            yield from iter(lambda: fh.read(size), b"")
