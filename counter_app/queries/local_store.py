"""The window's store opened for reading only: a read-only ``sqlite3`` connection whose schema
revision is one the read models know, and a vault that only decrypts.

Nothing here writes: not the database (``mode=ro``), not the key store (:meth:`Vault.reader`).
Whatever needs a write — a first set-up, a migration, a master rotation to finish — is refused
with :class:`NotReadable`, and the caller waits for the full services
(``counter_app.services.open_window``), which do it and say what went wrong in their own words.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from counter_app.errors import UserError
from counter_app.store.health import DAMAGED, explain

DB_NAME = "counter.sqlite3"

# Alembic revisions in which the tables the read models read (cases, item_progress, worklist)
# have the columns they read. A store at any other revision (newer, older, none) is not read
# here: the full services migrate it first. A test keeps the store's head revision in this set,
# so a new migration makes its author look at the read models.
KNOWN_REVISIONS = frozenset({"0001", "0002_signing_jobs", "0003_handovers", "0004_correction_reasons",
                             "0005_followups"})  # 0005: a new table and ratings.channel, nothing read here


class NotReadable(UserError):
    """The store cannot be read here (missing, empty, another schema, damaged, keys not ready).
    The message is for the log and IT; the GUI waits for the full services instead."""


@dataclass
class LocalStore:
    """A read-only connection and a decrypting vault; ``keystore`` is handed on to the full open."""

    conn: sqlite3.Connection
    vault: object
    keystore: object | None = None

    def close(self) -> None:
        self.conn.close()


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the store at ``path`` whose schema revision is known.

    Raises :class:`NotReadable` for a missing or empty file, an unknown revision, or a file
    SQLite cannot read (with the store's own Chinese sentence for damage)."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise NotReadable("本机数据库尚未建立。")
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30,
                               check_same_thread=False)
    except sqlite3.Error as exc:
        raise NotReadable(explain(exc) or f"无法打开本机数据库（{type(exc).__name__}）。") from None
    try:
        conn.execute("PRAGMA query_only=ON")
        check_schema(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise NotReadable(explain(exc) or DAMAGED) from None
    except NotReadable:
        conn.close()
        raise
    return conn


def check_schema(conn: sqlite3.Connection) -> str:
    """The store's revision, if the read models know it; else :class:`NotReadable`."""
    has_version = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'").fetchone()
    if not has_version:
        raise NotReadable("本机数据库尚未建立表结构。")
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    revision = row[0] if row else None
    if revision not in KNOWN_REVISIONS:
        raise NotReadable(f"本机数据库的结构版本（{revision}）不是本程序列表所读的版本，须先由完整启动升级。")
    return revision


def window_keystore(home: Path):
    """The key store configured for the data directory ``home`` (``COUNTER_APP_KEYSTORE``), as
    ``counter_app.services.open_window`` opens it."""
    from counter_app.security.keystore import keystore_namespace, open_keystore

    return open_keystore(Path(home), keystore_namespace(Path(home)))


def open_local_store(home: Path, keystore=None) -> LocalStore:
    """The store of the data directory ``home`` for reading: connection and decrypting vault.

    ``keystore`` defaults to :func:`window_keystore`. Raises :class:`NotReadable`, or the key
    store's own error (:class:`KeyStoreError`, a locked keyring's)."""
    from counter_app.security.vault import Vault

    home = Path(home)
    conn = connect_read_only(home / DB_NAME)
    try:
        keystore = keystore if keystore is not None else window_keystore(home)
        vault = Vault.reader(keystore)
    except BaseException:
        conn.close()
        raise
    return LocalStore(conn, vault, keystore)
