"""The worklist's read model (``counter_app.queries``): the same rows the store's own services
list, read with ``sqlite3`` alone, masked, and refused when the store is not one it knows."""
from __future__ import annotations

import datetime as _dt
import os
import sqlite3
import stat
import subprocess
import sys

import pytest
from sqlalchemy import select

from counter_app.clock import CHINA_TZ
from counter_app.lifecycle import OPEN_STATES
from counter_app.queries.local_store import KNOWN_REVISIONS, NotReadable, connect_read_only, open_local_store
from counter_app.queries.worklist import CASE, ONLINE, read_worklist, row_sla
from counter_app.security.keystore import KeyStoreError
from counter_app.security.vault import Vault
from counter_app.store.health import DAMAGED
from counter_app.store.models import WorklistEntry
from counter_app.store.worklist_entries import decode_entry


@pytest.fixture
def day(window):
    from app.demo.scene import populate

    scene = populate(window)
    return window, scene


def _read(window):
    store = open_local_store(window.home)
    try:
        now = _dt.datetime.now(_dt.timezone.utc)
        return read_worklist(store.conn, store.vault, today=now.astimezone(CHINA_TZ).date(),
                             own_window_no=str(window.settings.window_no), now=now)
    finally:
        store.close()


def test_the_read_model_lists_what_the_store_services_list(day):
    """Same rows, same order, same masking as the ORM's case summaries and stored entries."""
    window, scene = day
    rows = _read(window)
    today = _dt.datetime.now(_dt.timezone.utc).astimezone(CHINA_TZ).date()
    todays = window.cases.list_cases(day=today)
    seen = {c.id for c in todays}
    expected_cases = todays + [c for c in window.cases.list_cases(states=OPEN_STATES) if c.id not in seen]
    cases = [r for r in rows if r.kind == CASE]
    assert [r.key for r in cases] == [c.id for c in expected_cases]
    for row, summary in zip(cases, expected_cases):
        assert (row.case_no, row.version, row.masked_name, row.masked_id, row.items, row.state,
                row.state_title, row.source, row.accepted_on) == (
            summary.case_no, summary.version, summary.masked_name, summary.masked_id, summary.items,
            summary.state.value, summary.state.title, summary.source, summary.accepted_on)
        assert row.sla == row_sla(summary.state.value, summary.sla)
    assert {r.sla for r in cases} >= {"on_time", "at_risk", "overdue"}  # the demo day has every colour

    with window.sessions() as s:
        entries = list(s.execute(select(WorklistEntry).where(WorklistEntry.taken_case_id.is_(None))
                                 .order_by(WorklistEntry.fetched_at, WorklistEntry.platform_id)).scalars())
        payloads = [decode_entry(window, e) for e in entries]
    online = [r for r in rows if r.kind == ONLINE]
    assert rows[:len(online)] == online  # online applications first
    assert [r.key for r in online] == [e.platform_id for e in entries] == sorted(scene.online_ids)
    for row, payload in zip(online, payloads):
        name, number = payload["application"]["applicant"]["name"], payload["application"]["applicant"]["id_number"]
        assert row.masked_name != name and row.masked_name[0] == name[0] and "*" in row.masked_name
        assert row.masked_id == number[:6] + "*" * 8 + number[-4:] or "*" in row.masked_id
        assert number not in repr(row) and name not in repr(row)

    # no full name or ID number anywhere in the rows
    for summary in expected_cases:
        applicant = window.cases.get(summary.id).application.applicant
        assert all(applicant.id_number not in repr(r) and applicant.name not in repr(r) for r in rows)


def test_the_read_model_does_not_import_the_orm(day):
    window, _ = day
    code = ("import sys, datetime as d; from counter_app.queries.local_store import open_local_store; "
            "from counter_app.queries.worklist import read_worklist; "
            f"s = open_local_store({str(window.home)!r}); n = d.datetime.now(d.timezone.utc); "
            "rows = read_worklist(s.conn, s.vault, today=n.date(), own_window_no='01', now=n); "
            "print(len(rows) > 0, 'sqlalchemy' in sys.modules, 'counter_app.sync' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, COUNTER_APP_KEYSTORE="file")).stdout
    assert out.split() == ["True", "False", "False"], out


def test_the_store_head_is_a_revision_the_read_model_knows(window):
    from counter_app.store.db import current_revision, head_revision

    assert current_revision(window.engine) == head_revision()
    assert head_revision() in KNOWN_REVISIONS  # a new migration: check the read models' columns, then add it


def test_a_store_of_another_revision_is_not_read(window):
    window.close()
    conn = sqlite3.connect(window.db_path)
    conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    conn.commit()
    conn.close()
    with pytest.raises(NotReadable) as caught:
        connect_read_only(window.db_path)
    assert "9999_future" in caught.value.message and "升级" in caught.value.message


def test_a_missing_empty_or_unbuilt_store_is_not_read(tmp_path):
    with pytest.raises(NotReadable, match="尚未建立"):
        connect_read_only(tmp_path / "none.sqlite3")
    (tmp_path / "empty.sqlite3").write_bytes(b"")
    with pytest.raises(NotReadable, match="尚未建立"):
        connect_read_only(tmp_path / "empty.sqlite3")
    sqlite3.connect(tmp_path / "bare.sqlite3").execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(NotReadable, match="尚未建立表结构"):
        connect_read_only(tmp_path / "bare.sqlite3")


def test_a_damaged_store_is_not_read_and_says_so(window):
    window.close()
    data = bytearray(window.db_path.read_bytes())
    data[0:16] = b"not a database!!"
    window.db_path.write_bytes(bytes(data))
    with pytest.raises(NotReadable) as caught:
        connect_read_only(window.db_path)
    assert caught.value.message == DAMAGED


def test_reading_never_writes_the_store(day):
    window, _ = day
    window.close()
    before = {p.name: p.stat().st_mtime_ns for p in window.home.rglob("*") if p.is_file()}
    _read(window)
    after = {p.name: p.stat().st_mtime_ns for p in window.home.rglob("*") if p.is_file()}
    # SQLite's reader may create the (empty) WAL index files next to a WAL database; nothing else
    wal = window.home / "counter.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert {k: v for k, v in after.items() if not k.endswith(("-shm", "-wal"))} == \
        {k: v for k, v in before.items() if not k.endswith(("-shm", "-wal"))}


def test_the_reading_vault_refuses_what_only_the_full_open_may_repair(window):
    keystore = window.keystore
    blob = window.vault.encrypt(b"x", b"ad")
    assert Vault.reader(keystore).decrypt(blob, b"ad") == b"x"
    keystore.set(Vault.PENDING_NAME, b"\0" * 32)  # a master rotation that did not finish
    with pytest.raises(KeyStoreError):
        Vault.reader(keystore)
    keystore.delete(Vault.PENDING_NAME)
    keystore.delete(Vault.MASTER_NAME)
    with pytest.raises(KeyStoreError):
        Vault.reader(keystore)
    assert keystore.get(Vault.MASTER_NAME) is None  # nothing was created


def test_a_key_store_that_cannot_be_used_is_refused_with_its_own_message(day):
    window, _ = day
    path = window.home / "keys" / "keystore.txt"
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR | stat.S_IROTH)
    with pytest.raises(KeyStoreError) as caught:
        open_local_store(window.home)
    assert "权限过宽" in caught.value.message
