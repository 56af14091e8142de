"""Upgrading a window's store in place without ever losing it.

When a new version starts on an existing data directory, :func:`safe_upgrade`:

1. compares the database's Alembic revision with the program's head. Nothing to do → returns at
   once (no backup on an ordinary start: a copy per start would keep purged personal data alive in
   backups long after the retention rule removed it from the store);
2. refuses, without touching anything, a database stamped by a *newer* program (an IT person
   reinstalling an old installer) or one that fails SQLite's integrity check;
3. copies the store with SQLite's online backup API into ``backups/`` next to it (a consistent
   snapshot even while WAL pages are pending), checks the copy, and only then
4. runs the Alembic migrations in one transaction, and checks the result (revision stamped,
   ``quick_check``, ``foreign_key_check``, and every trigger still present — SQLite "batch" table
   rebuilds silently drop triggers, and ours carry legal weight: finalized cases immutable, audit
   log append-only). If anything fails, the backup is copied back into the
   store (again with the backup API, which takes SQLite's locks properly) and
   :class:`UpgradeFailed` says so in Chinese: the data is as it was, the old version can be reinstalled.

The attachment files need no copy: they live in a content-addressed folder (file name = SHA-256 of
the content), no migration rewrites them, and the restored index still names the same files.

Thread/process contract: call before anything else opens the store (``open_window`` does it first).
Migrations take SQLite's write lock (``BEGIN IMMEDIATE``), so a second process starting at the same
moment waits and then finds the store already at head.
"""
from __future__ import annotations

import datetime as _dt
import logging
import os
import re
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from counter_app.errors import UserError

log = logging.getLogger(__name__)

BACKUP_DIR = "backups"
KEEP_BACKUPS = 3
_BACKUP_PREFIX = "counter-"


class UpgradeRefused(UserError):
    """The store was not touched: the program will not migrate it (message says why and what to do)."""


class UpgradeFailed(UserError):
    """A migration failed; the store was restored from :attr:`backup` (message says so)."""

    def __init__(self, message: str, backup: Path | None = None, restored: bool = True):
        super().__init__(message)
        self.backup = backup
        self.restored = restored


@dataclass(frozen=True)
class UpgradeResult:
    db_path: Path
    from_revision: str | None
    to_revision: str
    backup: Path | None
    seconds: float

    @property
    def migrated(self) -> bool:
        return self.from_revision != self.to_revision


# ---------------------------------------------------------------- backup / restore

def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def integrity_ok(path: Path) -> tuple[bool, str]:
    conn = _connect(path)
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return False, str(exc)
    finally:
        conn.close()
    text = "; ".join(str(r[0]) for r in rows)
    return text == "ok", text


def backup_database(db_path: Path, dest: Path) -> Path:
    """A consistent single-file copy of ``db_path`` at ``dest`` (SQLite online backup API).

    Written under a temporary name, checked with ``quick_check``, fsynced, then renamed: a file
    named like a backup is always a complete, valid one.
    """
    db_path, dest = Path(db_path), Path(dest)
    if not db_path.is_file():
        raise UserError(f"找不到数据库文件：{db_path}。")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    src = _connect(db_path)
    dst = _connect(tmp)
    try:
        src.backup(dst)
        # The copy carries the source's WAL flag; make it a self-contained rollback-journal file.
        dst.execute("PRAGMA journal_mode=DELETE")
        rows = dst.execute("PRAGMA quick_check").fetchall()
        ok, detail = rows == [("ok",)], "; ".join(str(r[0]) for r in rows)
    finally:
        dst.close()
        src.close()
    if not ok:
        tmp.unlink(missing_ok=True)
        raise UserError(f"数据库备份校验失败（{detail}），数据库文件可能已损坏。请勿继续使用，联系技术人员。")
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, dest)
    return dest


def restore_database(backup: Path, db_path: Path) -> None:
    """Copy ``backup`` back into ``db_path`` through the backup API (honours locks and the WAL)."""
    src = _connect(backup)
    dst = _connect(db_path)
    try:
        src.backup(dst)
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        dst.close()
        src.close()


def backups(home_or_dir: Path) -> list[Path]:
    """Backups in ``home/backups`` (or the given backups folder), newest first."""
    folder = Path(home_or_dir)
    if folder.name != BACKUP_DIR:
        folder = folder / BACKUP_DIR
    return sorted(folder.glob(_BACKUP_PREFIX + "*.sqlite3"), key=lambda p: p.stat().st_mtime_ns, reverse=True)


def prune_backups(folder: Path, keep: int = KEEP_BACKUPS) -> list[Path]:
    removed = []
    for old in backups(folder)[keep:]:
        old.unlink(missing_ok=True)
        removed.append(old)
    return removed


# ---------------------------------------------------------------- revisions

_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*['\"]?([\w.-]*)['\"]?", re.MULTILINE)


def shipped_head() -> str | None:
    """The head revision of the migrations shipped with the program, read from the version
    files' ``revision``/``down_revision`` lines (the revision nothing revises; None when that is
    not exactly one, and Alembic then decides). A test holds it equal to Alembic's head."""
    from counter_app.store.db import MIGRATIONS

    revisions, parents = set(), set()
    for path in (Path(MIGRATIONS) / "versions").glob("*.py"):
        fields = dict(m.groups() for m in _REVISION_LINE.finditer(path.read_text(encoding="utf-8")))
        if fields.get("revision"):
            revisions.add(fields["revision"])
            if fields.get("down_revision") and fields["down_revision"] != "None":
                parents.add(fields["down_revision"])
    heads = revisions - parents
    return next(iter(heads)) if len(heads) == 1 else None


def _script_directory(script_location: Path | None):
    from alembic.script import ScriptDirectory

    from counter_app.store.db import alembic_config

    cfg = alembic_config()
    if script_location is not None:
        cfg.set_main_option("script_location", str(script_location))
    return cfg, ScriptDirectory.from_config(cfg)


def _stamped_revision(db_path: Path) -> tuple[str | None, bool]:
    """(revision, has_tables). A missing file is (None, False)."""
    if not db_path.exists() or db_path.stat().st_size == 0:
        return None, False
    conn = _connect(db_path)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        rev = None
        if "alembic_version" in names:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            rev = row[0] if row else None
        return rev, bool(names - {"alembic_version"})
    finally:
        conn.close()


def _free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


# ---------------------------------------------------------------- the upgrade

def safe_upgrade(db_path: Path, *, backup_dir: Path | None = None, keep: int = KEEP_BACKUPS,
                 script_location: Path | None = None, revision: str = "head") -> UpgradeResult:
    """Bring ``db_path`` to ``revision`` (default head) as described in the module docstring.

    ``script_location`` points Alembic at another migration folder (tests build an older chain).
    Raises :class:`UpgradeRefused` (nothing touched) or :class:`UpgradeFailed` (restored from backup).
    """
    started = time.perf_counter()
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    backup_dir = Path(backup_dir) if backup_dir else db_path.parent / BACKUP_DIR
    current, has_tables = _stamped_revision(db_path)
    if revision == "head" and script_location is None and current is not None and current == shipped_head():
        # the usual start: nothing to migrate, so Alembic (~0.4 s of imports) is not loaded at all
        return UpgradeResult(db_path, current, current, None, time.perf_counter() - started)
    cfg, scripts = _script_directory(script_location)
    target = scripts.get_current_head() if revision == "head" else revision

    if current == target:
        return UpgradeResult(db_path, current, target, None, time.perf_counter() - started)
    if current is not None:
        known = {s.revision for s in scripts.walk_revisions()}
        if current not in known:
            raise UpgradeRefused(
                f"本机数据库的结构版本（{current}）比本程序新（本程序最高支持 {target}），"
                "可能是安装了旧版本的程序。数据未做任何改动。请安装最新版本的程序后再启动。")

    backup = None
    if has_tables:
        ok, detail = integrity_ok(db_path)
        if not ok:
            raise UpgradeRefused(f"数据库完整性检查未通过（{detail[:200]}），为保护数据已停止升级，数据未做任何改动。"
                                 "请联系技术人员，并用“counter-app diagnostics export”导出诊断信息。")
        size = db_path.stat().st_size + _wal_size(db_path)
        backup_dir.mkdir(parents=True, exist_ok=True)
        if _free_bytes(backup_dir) < size * 2 + 20 * 1024 * 1024:
            raise UpgradeRefused(f"磁盘空间不足，无法在升级前备份数据库（需要约 {size * 2 // 1048576 + 20} MB）。"
                                 "数据未做任何改动。请清理磁盘空间后重新启动程序。")
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        backup = backup_database(db_path, backup_dir / f"{_BACKUP_PREFIX}{current or 'unversioned'}-to-{target}-{stamp}.sqlite3")
        log.info("升级前已备份数据库：%s（%s → %s）", backup.name, current, target)

    triggers_before = _triggers(db_path)
    try:
        _migrate(db_path, cfg, target)
        problem = _check_after(db_path, target, triggers_before)
        if problem:
            raise RuntimeError(problem)
    except Exception as exc:
        log.exception("数据库升级失败（%s → %s）", current, target)
        if backup is None:
            # A new, empty store: nothing to lose; remove the half-made file so the next start retries.
            for suffix in ("", "-wal", "-shm"):
                Path(str(db_path) + suffix).unlink(missing_ok=True)
            raise UpgradeFailed(f"新建数据库失败（{type(exc).__name__}）。请把“诊断导出”文件交给技术人员。",
                                None, restored=False) from exc
        try:
            restore_database(backup, db_path)
            restored_rev, _ = _stamped_revision(db_path)
            if restored_rev != current:
                raise RuntimeError(f"restored revision {restored_rev!r} != {current!r}")
        except Exception as restore_exc:
            log.critical("从备份恢复数据库失败：%s", type(restore_exc).__name__)
            raise UpgradeFailed(
                f"数据库升级失败，自动恢复也未成功。请不要再操作本窗口，立即联系技术人员；"
                f"升级前的完整备份在：{backup}", backup, restored=False) from exc
        # Every failed attempt leaves a backup; keep the newest few, not one per start.
        prune_backups(backup_dir, keep)
        raise UpgradeFailed(
            f"数据库升级失败（{current} → {target}，{type(exc).__name__}），已自动恢复到升级前的备份，数据没有丢失。"
            f"请暂时安装回原来版本的程序继续办理，并联系技术人员（备份文件：{backup}）。", backup) from exc

    removed = prune_backups(backup_dir, keep) if backup else []
    if removed:
        log.info("已删除较早的数据库备份 %d 个", len(removed))
    seconds = time.perf_counter() - started
    log.info("数据库已从 %s 升级到 %s，用时 %.2f 秒", current, target, seconds)
    return UpgradeResult(db_path, current, target, backup, seconds)


def _wal_size(db_path: Path) -> int:
    wal = Path(str(db_path) + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def _migrate(db_path: Path, cfg, target: str) -> None:
    from alembic import command

    from counter_app.store.db import make_engine

    engine = make_engine(db_path)
    try:
        cfg.set_main_option("sqlalchemy.url", str(engine.url))
        with engine.connect() as conn:
            # SQLite's own procedure for schema changes: foreign keys off (a table rebuild drops and
            # recreates a parent table, which with enforcement on fails or cascades), then
            # foreign_key_check before committing. The pragma only works outside a transaction,
            # so it goes to the driver connection before SQLAlchemy begins one.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, target)
                bad = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchmany(5)
                if bad:
                    raise RuntimeError(f"foreign_key_check after migration: {bad}")
    finally:
        cfg.attributes.pop("connection", None)
        engine.dispose()


def _triggers(db_path: Path) -> set[str]:
    if not db_path.exists():
        return set()
    conn = _connect(db_path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    finally:
        conn.close()


def _check_after(db_path: Path, target: str, triggers_before: set[str]) -> str:
    lost = triggers_before - _triggers(db_path)
    if lost:
        # A migration that means to replace a trigger recreates it under the same name.
        return f"triggers lost by the migration: {sorted(lost)}"
    rev, _ = _stamped_revision(db_path)
    if rev != target:
        return f"stamped revision {rev!r} after upgrade, expected {target!r}"
    ok, detail = integrity_ok(db_path)
    if not ok:
        return f"quick_check: {detail[:200]}"
    conn = _connect(db_path)
    try:
        bad = conn.execute("PRAGMA foreign_key_check").fetchmany(5)
    finally:
        conn.close()
    if bad:
        return f"foreign_key_check: {bad}"
    return ""
