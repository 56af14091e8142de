"""The store's health as the clerk and IT see it: damage found at start, and low-level storage
errors turned into sentences that say what to do.

- :func:`check_at_start` runs ``PRAGMA quick_check`` (seconds on a large store; the full
  ``integrity_check`` runs later off the GUI thread, see :func:`full_check`). A damaged store is
  opened read-only (``PRAGMA query_only``): lists, lookups and ``sync export`` still work, every
  write is refused with :data:`DAMAGED`.
- :func:`explain` maps SQLite and OS errors (damaged file, read-only store, full disk) to
  Chinese messages; callers turn them into a :class:`StoreProblem` instead of a traceback.
"""
from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from counter_app.errors import UserError

DAMAGED = ("本机数据库已损坏（完整性检查未通过），为防止损坏扩大，程序只允许查看和导出，拒绝写入。"
           "请技术人员：停止在本窗口受理，用 counter-app sync export 导出待上报办件，然后恢复最近一次的数据库备份"
           "（数据目录下 backups 文件夹，或 counter-app db restore），再联系运维核对。")
READ_ONLY = ("本机数据库已损坏或缺少最近的记录（启动时核对未通过，详见日志），为保护数据只允许查看和导出，拒绝写入。"
             "请技术人员用 counter-app sync export 导出待上报办件，恢复最近一次的数据库备份后再受理。")
DISK_FULL = ("磁盘空间已满，刚才的操作没有保存（已录入的内容仍在）。请技术人员清理磁盘空间后重试；"
             "待上报办件可先用 counter-app sync export 导出到U盘。")


class StoreProblem(UserError):
    """A storage problem with a message for the clerk and IT."""


def quick_check(path: Path) -> str | None:
    """None when the store passes ``PRAGMA quick_check``, else what SQLite reported."""
    return _check(path, "quick_check")


def full_check(path: Path) -> str | None:
    """``PRAGMA integrity_check`` (slow on a large store: run it from a background job)."""
    return _check(path, "integrity_check")


def _check(path: Path, pragma: str) -> str | None:
    if not Path(path).exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            rows = conn.execute(f"PRAGMA {pragma}").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    text = "; ".join(str(r[0]) for r in rows)
    return None if text == "ok" else text[:300]


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__


def explain(exc: BaseException) -> str | None:
    """A Chinese message for a storage failure, or None when ``exc`` is something else."""
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return DISK_FULL
        if isinstance(e, sqlite3.DatabaseError):
            text = str(e).lower()
            if "database or disk is full" in text:
                return DISK_FULL
            if "readonly database" in text:
                return READ_ONLY
            if "malformed" in text or "not a database" in text or "disk i/o error" in text:
                return DAMAGED
    return None
