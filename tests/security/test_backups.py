"""Automatic backups are verified, encrypted (nothing of the database readable in them), private,
rotated, and bring a damaged store back through ``counter-app db restore``."""
from __future__ import annotations

import datetime as _dt
import io
import json
import sqlite3
import stat

from app.cli import main
from counter_app.store.backups import KEEP, backups, maybe_backup, take_backup
from tests.security.casework import finalize_case


def test_backups_are_encrypted_private_verified_and_rotated(staffed_window):
    rec, app, _ = finalize_case(staffed_window, 81)
    now = _dt.datetime(2026, 12, 1, 8, 0, tzinfo=_dt.timezone.utc)
    first = take_backup(staffed_window, now=now)
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    raw = first.read_bytes()
    # Operators' names, password hashes and the case number are in the database in clear; not here.
    for clear in ("李晓燕".encode(), b"scrypt$", rec.case_no.encode(), b"SQLite format 3"):
        assert clear not in raw
    assert maybe_backup(staffed_window, now=now + _dt.timedelta(hours=1)) is None  # fresh enough
    for i in range(KEEP + 2):
        take_backup(staffed_window, now=now + _dt.timedelta(days=i + 1))
    assert len(backups(staffed_window.home)) == KEEP
    assert not [p for p in (staffed_window.home / "backups").iterdir() if ".tmp" in p.name]


def test_db_restore_brings_a_damaged_store_back(staffed_window, capsys, monkeypatch):
    rec, app, _ = finalize_case(staffed_window, 82)
    take_backup(staffed_window)
    home = staffed_window.home
    staffed_window.close()
    db = home / "counter.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(db.read_bytes())
    data[4096 * 2: 4096 * 2 + 64] = b"\xff" * 64  # a damaged page
    db.write_bytes(bytes(data))
    # The store is damaged: the IT administrator of the backup restores it (password on stdin).
    monkeypatch.setattr("sys.stdin", io.StringIO("Keys-and-roots-2026!\n"))
    assert main(["db", "restore", "--user", "admin", "--password-stdin"]) == 0
    capsys.readouterr()
    assert main(["case", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["case_no"] for r in rows] == [rec.case_no] and not rows[0]["damaged"]
    assert main(["audit", "verify"]) == 0
    assert list((home / "backups").glob("damaged-*.sqlite3"))
