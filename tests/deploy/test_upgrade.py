"""Upgrading a window's store in place: backed up first, every case intact after, restored on failure.

The store is made by the real schema (the real migrations, real cases with photos, signatures,
scans and sealed form PDFs); the "newer program" is a temporary migration folder holding the real
migrations plus a test-only one on top, so each test decides what the upgrade does.
"""
from __future__ import annotations

import os

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from counter_app.store.db import MIGRATIONS, head_revision
from counter_app.upgrade import (
    UpgradeFailed, UpgradeRefused, backup_database, backups, integrity_ok, prune_backups, safe_upgrade,
)
from tests.deploy.conftest import snapshot

HEADER = '''"""{doc}"""
from alembic import op
import sqlalchemy as sa

revision = "t900"
down_revision = "{down}"
branch_labels = None
depends_on = None


def downgrade() -> None:
    pass
'''

# What a real column change on SQLite does: Alembic's batch mode copies `cases` into a new table,
# drops the old one (and with it its trigger) and renames. A careful migration puts the trigger back.
REBUILD_CASES = HEADER + '''

def upgrade() -> None:
    bind = op.get_bind()
    trigger = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type='trigger' AND name='cases_finalized_immutable'").scalar()
    with op.batch_alter_table("cases", recreate="always") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=True))
    op.execute(trigger)
'''

# The same rebuild written carelessly: the immutability trigger is silently gone afterwards.
REBUILD_LOSING_TRIGGER = HEADER + '''

def upgrade() -> None:
    with op.batch_alter_table("cases", recreate="always") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=True))
'''

# A migration that ends the transaction under Alembic's feet (as one running VACUUM or a driver-level
# COMMIT would), so what follows is written for good, then fails. SQLite's rollback cannot undo it;
# without the backup the store would stay half-migrated with its progress rows gone.
COMMIT_HALF_THEN_FAIL = HEADER + '''

def upgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("DELETE FROM item_progress")
    bind.exec_driver_sql("CREATE TABLE half_done (x INTEGER)")
    bind.exec_driver_sql("BEGIN IMMEDIATE")
    raise RuntimeError("simulated failure half-way through a migration")
'''


def newer_program(tmp_path: Path, body: str, doc: str) -> Path:
    """A migration folder: the real migrations plus ``t900`` on top of the real head."""
    dest = tmp_path / "newer-migrations"
    shutil.copytree(MIGRATIONS, dest, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "versions" / "t900_test_only.py").write_text(body.format(doc=doc, down=head_revision()),
                                                         encoding="utf-8")
    return dest


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reopen(home: Path):
    from counter_app.services import open_window

    return open_window(home, migrate=False)


def raw(home: Path, sql: str, *params):
    conn = sqlite3.connect(home / "counter.sqlite3")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_rebuilding_the_cases_table_keeps_every_case_and_its_files(populated_window, tmp_path):
    before = snapshot(populated_window)
    home = populated_window.home
    populated_window.close()
    scripts = newer_program(tmp_path, REBUILD_CASES, "test-only: rebuild cases with a new column")

    result = safe_upgrade(home / "counter.sqlite3", script_location=scripts)

    assert (result.from_revision, result.to_revision) == (head_revision(), "t900")
    assert result.backup is not None and result.backup.exists()
    assert integrity_ok(result.backup) == (True, "ok")
    assert raw(home, "SELECT version_num FROM alembic_version") == [("t900",)]
    assert "channel" in {r[1] for r in raw(home, "PRAGMA table_info(cases)")}
    window = reopen(home)
    try:
        after = snapshot(window)
        assert len(after) == 5
        assert after == before  # every case decrypts to its pre-upgrade export; every file opens
        from counter_app import audit

        with window.sessions() as s:
            assert audit.verify(s).ok
    finally:
        window.close()
    # The sealed cases are still protected by SQLite itself.
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        conn = sqlite3.connect(home / "counter.sqlite3")
        try:
            conn.execute("UPDATE cases SET items = '1' WHERE finalized_at IS NOT NULL")
        finally:
            conn.close()


def test_a_migration_that_loses_the_immutability_trigger_is_undone(populated_window, tmp_path):
    before = snapshot(populated_window)
    home = populated_window.home
    populated_window.close()
    scripts = newer_program(tmp_path, REBUILD_LOSING_TRIGGER, "test-only: careless rebuild")

    with pytest.raises(UpgradeFailed) as failed:
        safe_upgrade(home / "counter.sqlite3", script_location=scripts)

    assert "已自动恢复到升级前的备份，数据没有丢失" in failed.value.message
    assert failed.value.restored and failed.value.backup.exists()
    assert raw(home, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    assert raw(home, "SELECT name FROM sqlite_master WHERE name = 'cases_finalized_immutable'")
    assert "channel" not in {r[1] for r in raw(home, "PRAGMA table_info(cases)")}
    window = reopen(home)
    try:
        assert snapshot(window) == before
    finally:
        window.close()


def test_a_migration_failing_after_committing_half_its_work_is_restored_from_the_backup(populated_window, tmp_path):
    before = snapshot(populated_window)
    assert any(case["export"]["items_progress"] for case in before.values())
    home = populated_window.home
    populated_window.close()
    scripts = newer_program(tmp_path, COMMIT_HALF_THEN_FAIL, "test-only: commits half, then fails")

    with pytest.raises(UpgradeFailed) as failed:
        safe_upgrade(home / "counter.sqlite3", script_location=scripts)

    message = failed.value.message
    assert "数据库升级失败" in message and "已自动恢复" in message and str(failed.value.backup) in message
    assert raw(home, "SELECT name FROM sqlite_master WHERE name = 'half_done'") == []
    assert raw(home, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    window = reopen(home)
    try:
        assert snapshot(window) == before  # the deleted progress rows are back
    finally:
        window.close()


def test_a_store_from_a_newer_program_is_refused_and_left_untouched(window):
    home = window.home
    window.close()
    conn = sqlite3.connect(home / "counter.sqlite3")
    conn.execute("UPDATE alembic_version SET version_num = 'f999_future'")
    conn.commit()
    conn.close()
    digest = file_digest(home / "counter.sqlite3")

    with pytest.raises(UpgradeRefused) as refused:
        safe_upgrade(home / "counter.sqlite3")

    assert "比本程序新" in refused.value.message and "数据未做任何改动" in refused.value.message
    assert file_digest(home / "counter.sqlite3") == digest
    assert backups(home) == []


def _corrupt_table_page(db: Path, table: str) -> None:
    conn = sqlite3.connect(db)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    conn.close()
    with open(db, "r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(b"\x0d" + b"\xff" * 64)  # a leaf page whose header and cell pointers are garbage


def test_a_damaged_store_is_refused_before_anything_is_changed(populated_window, tmp_path):
    home = populated_window.home
    populated_window.close()
    db = home / "counter.sqlite3"
    _corrupt_table_page(db, "case_transitions")
    digest = file_digest(db)
    scripts = newer_program(tmp_path, REBUILD_CASES, "test-only: rebuild cases with a new column")

    with pytest.raises(UpgradeRefused) as refused:
        safe_upgrade(db, script_location=scripts)

    assert "完整性检查未通过" in refused.value.message
    assert file_digest(db) == digest
    assert backups(home) == []


def test_without_room_for_a_backup_nothing_is_migrated(populated_window, tmp_path, monkeypatch):
    import counter_app.upgrade as upgrade

    home = populated_window.home
    populated_window.close()
    digest = file_digest(home / "counter.sqlite3")
    monkeypatch.setattr(upgrade, "_free_bytes", lambda folder: 1024)
    scripts = newer_program(tmp_path, REBUILD_CASES, "test-only: rebuild cases with a new column")

    with pytest.raises(UpgradeRefused) as refused:
        safe_upgrade(home / "counter.sqlite3", script_location=scripts)

    assert "磁盘空间不足" in refused.value.message
    assert file_digest(home / "counter.sqlite3") == digest


def test_an_up_to_date_store_starts_without_a_backup(window):
    home = window.home
    window.close()
    result = safe_upgrade(home / "counter.sqlite3")
    assert not result.migrated and result.backup is None
    assert backups(home) == []


def test_online_backup_takes_only_committed_data_while_a_writer_is_busy(window, tmp_path):
    db = window.home / "counter.sqlite3"
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO settings (key, value) VALUES ('uncommitted', '1')")
    try:
        copy = backup_database(db, tmp_path / "during.sqlite3")
    finally:
        writer.execute("COMMIT")
        writer.close()
    after = backup_database(db, tmp_path / "after.sqlite3")

    def keys(path):
        conn = sqlite3.connect(path)
        try:
            return {r[0] for r in conn.execute("SELECT key FROM settings")}
        finally:
            conn.close()

    assert "uncommitted" not in keys(copy)
    assert "uncommitted" in keys(after)
    assert integrity_ok(copy) == (True, "ok")
    assert not Path(str(copy) + "-wal").exists()  # a self-contained single file


def test_only_the_newest_backups_are_kept(tmp_path):
    import os
    import time

    folder = tmp_path / "backups"
    folder.mkdir()
    made = []
    for i in range(5):
        p = folder / f"counter-000{i}-to-0001-2026010{i}.sqlite3"
        p.write_bytes(b"x")
        os.utime(p, (time.time() - 100 + i, time.time() - 100 + i))
        made.append(p)
    removed = prune_backups(folder, keep=3)
    assert sorted(removed) == sorted(made[:2])
    assert backups(tmp_path) == list(reversed(made[2:]))


def test_backups_of_failed_upgrades_do_not_pile_up(populated_window, tmp_path):
    from counter_app.upgrade import KEEP_BACKUPS, backups

    home = populated_window.home
    populated_window.close()
    scripts = newer_program(tmp_path, COMMIT_HALF_THEN_FAIL, "test-only: commits half, then fails")
    with pytest.raises(UpgradeFailed):
        safe_upgrade(home / "counter.sqlite3", script_location=scripts)
    first = backups(home)[0]
    # Earlier starts with the same broken upgrade, each of which left a backup.
    for day in range(1, KEEP_BACKUPS + 3):
        old = first.with_name(first.name.replace("-to-t900-", f"-to-t900-2026110{day}-"))
        old.write_bytes(first.read_bytes())
        os.utime(old, (first.stat().st_mtime - day * 86400,) * 2)
    with pytest.raises(UpgradeFailed):
        safe_upgrade(home / "counter.sqlite3", script_location=scripts)
    assert len(backups(home)) == KEEP_BACKUPS


def test_a_start_at_the_head_revision_does_not_load_alembic(window, tmp_path):
    """The usual start finds the schema at head: Alembic (~0.4 s of imports) stays unloaded, and
    the head read from the shipped version files is Alembic's own."""
    import subprocess
    import sys

    from counter_app.store.db import head_revision
    from counter_app.upgrade import shipped_head

    assert shipped_head() == head_revision()
    db = window.home / "counter.sqlite3"
    code = ("import sys; from pathlib import Path; from counter_app.upgrade import safe_upgrade; "
            f"r = safe_upgrade(Path({str(db)!r})); print(r.to_revision, r.migrated, 'alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == [head_revision(), "False", "False"], out
