"""Whether a data directory already holds data: decides if first set-up may create keys.

Keys are created only for an empty store. A store with cases, operators, audit entries, a
worklist or attachment files must never get fresh keys: they could not open what is there, and
new data under them would split the store in two. A database file that cannot be read counts as
holding data (refusing is recoverable, replacing keys is not).
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

# Tables whose rows only exist after the window has been used.
_USED_TABLES = ("cases", "operators", "audit_log", "worklist", "outbox")


def store_holds_data(home: Path) -> bool:
    db = home / "counter.sqlite3"
    attachments = home / "attachments"
    if attachments.is_dir() and any(p.is_file() for p in attachments.rglob("*")):
        return True
    if not db.exists():
        return False
    if db.stat().st_size == 0 and not Path(str(db) + "-wal").exists():
        return False
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    except sqlite3.Error:
        return True
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for table in _USED_TABLES:
            if table in names and conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():  # noqa: S608 - fixed names
                return True
        return False
    except sqlite3.Error:
        return True
    finally:
        conn.close()
