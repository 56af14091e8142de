"""Wiring: open one window's services from its data directory.

Everything the UI and the CLI use is built here once and passed in (no globals):
settings, the database, the vault, the attachment store, the working-day calendar and
the case service. Tests build their own in a temporary ``COUNTER_APP_HOME``.
"""
from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from counter_app.cases import CaseService
from counter_app.config import Settings, load_settings
from counter_app.paths import data_home
from counter_app.security import audit_anchor
from counter_app.security.keystore import KeyStore, keystore_namespace, open_keystore  # noqa: F401 - re-exported
from counter_app.security.seal import Sealer
from counter_app.security import search_rotation
from counter_app.security.vault import Vault
from counter_app.store.db import open_database
from counter_app.store.files import FileStore
from counter_app.store.health import DAMAGED, quick_check
from counter_app.store.presence import store_holds_data
from counter_app.store.private import secure_home
from counter_app.workdays import WorkCalendar

log = logging.getLogger(__name__)


@dataclass
class Window:
    home: Path
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keystore: KeyStore
    vault: Vault
    files: FileStore
    calendar: WorkCalendar
    cases: CaseService
    # Why the store was opened read-only (quick_check failed, or the chain is shorter than the
    # recorded audit head): a Chinese sentence for the clerk and IT; None when it is healthy.
    damage: str | None = None

    @property
    def db_path(self) -> Path:
        return self.home / "counter.sqlite3"

    def close(self) -> None:
        self.engine.dispose()


def open_window(home: Path | None = None, *, migrate: bool = True, keystore: KeyStore | None = None) -> Window:
    """``keystore``: the key store of ``home`` when the caller already opened it (the GUI's start
    reads the worklist first; a system keyring is asked only once)."""
    home = Path(home) if home else data_home()
    secure_home(home)  # 0700 / 0600, also for a directory made by an older version
    settings = load_settings(home / "config.toml")
    keystore = keystore if keystore is not None else open_keystore(home, keystore_namespace(home))
    # Keys (data keys, master, seal key) are created only on first set-up of an empty store.
    first_setup = not store_holds_data(home)
    vault = Vault(keystore, algorithm=settings.crypto_algorithm, may_create=first_setup)
    sealer = Sealer.from_keystore(keystore, may_create=first_setup)
    unreadable = None
    if migrate:
        # Back up, migrate, restore on failure (raises UpgradeRefused/UpgradeFailed with a Chinese message).
        from counter_app.upgrade import safe_upgrade

        try:
            safe_upgrade(home / "counter.sqlite3")
        except sqlite3.DatabaseError as exc:
            # Too damaged to read its schema version: not migrated, opened read-only below.
            log.error("数据库无法读取结构版本：%s", exc)
            unreadable = str(exc)
    # PRAGMA quick_check at every start: a damaged store is opened read-only (see store.health).
    problem = quick_check(home / "counter.sqlite3") or unreadable
    damage = None
    if problem is not None:
        log.error("数据库完整性检查未通过：%s", problem)
        damage = f"{DAMAGED}（检查结果：{problem[:80]}）"
    engine, sessions = open_database(home / "counter.sqlite3", migrate=False, read_only=damage is not None)
    if damage is None:
        damage = audit_anchor.check(home, vault, sessions)
        if damage is not None:
            log.error("审计链头核对未通过：%s", damage)
            engine.dispose()
            engine, sessions = open_database(home / "counter.sqlite3", migrate=False, read_only=True)
    audit_anchor.attach(sessions, home, vault)
    search_rotation.activate(vault, sessions, damaged=damage is not None)
    files = FileStore(home / "attachments", vault)
    calendar = WorkCalendar.default(extra_dirs=[home / "holidays"])
    cases = CaseService(sessions, vault, files, calendar, center_code=settings.center_code,
                        window_no=settings.window_no, sealer=sealer, center_name=settings.center_name)
    return Window(home, settings, engine, sessions, keystore, vault, files, calendar, cases, damage)
