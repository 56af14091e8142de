"""The audit chain catches every single-entry edit, deletion and reordering (property-based).

The attacker works on the SQLite file directly: drops the append-only trigger, then edits,
deletes or renumbers rows. Verification runs through the application's own code on the
tampered file. The one change a chain cannot show by itself, removing the newest entry (or
rewriting it with a fresh hash), is caught against the head last sent to the platform.
"""
from __future__ import annotations

import datetime as _dt
import json
import shutil
import sqlite3
import uuid

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy.orm import sessionmaker

from counter_app import audit
from counter_app.store.db import make_engine, open_database

N = 12
PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def base_chain(tmp_path_factory):
    path = tmp_path_factory.mktemp("audit") / "base.sqlite3"
    engine, sessions = open_database(path)
    t0 = _dt.datetime(2026, 3, 2, 1, 0, tzinfo=_dt.timezone.utc)
    actions = ["login", "case_create", "finalize", "reveal", "print", "export", "sync_ack", "settings",
               "correction", "correction_approved", "logout", "lockout"]
    with sessions.begin() as s:
        for i in range(N):
            audit.append(s, f"clerk{i % 3}", actions[i], f"410702-01-20260302-{i:04d}-0",
                         {"version": 1, "note": "中文说明", "n": i, "nested": {"items": [1, 4, 8]}},
                         at=t0 + _dt.timedelta(minutes=7 * i, microseconds=1234 * i))
    with sessions() as s:
        head = audit.head(s)
        assert audit.verify(s).ok
    engine.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path, head


def _copy(base, tmp_path):
    dst = tmp_path / f"{uuid.uuid4().hex}.sqlite3"
    shutil.copyfile(base, dst)
    return dst


def _attack(path, statements):
    con = sqlite3.connect(path)
    con.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    for sql, params in statements:
        con.execute(sql, params)
    con.commit()
    con.close()


def _verify(path, anchor=None):
    engine = make_engine(path)
    try:
        with sessionmaker(engine)() as s:
            return audit.verify(s, anchor=anchor)
    finally:
        engine.dispose()


def _row(path, seq):
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    row = dict(con.execute("SELECT * FROM audit_log WHERE seq = ?", (seq,)).fetchone())
    con.close()
    return row


FIELDS = ["at", "operator", "action", "subject", "detail", "prev_hash", "hash"]


def _different(field, old, draw_text):
    if field == "at":
        t = _dt.datetime.fromisoformat(old) + _dt.timedelta(seconds=1 + len(draw_text))
        return t.isoformat(sep=" ")
    if field == "detail":
        d = json.loads(old)
        d["n"] = d.get("n", 0) + 1 + len(draw_text)
        return json.dumps(d, ensure_ascii=False)
    if field in ("prev_hash", "hash"):
        flipped = ("0" if old[0] != "0" else "1") + old[1:]
        return flipped
    return old + (draw_text or "x")


@PROFILE
@given(seq=st.integers(1, N), field=st.sampled_from(FIELDS), text=st.text(min_size=1, max_size=5))
def test_any_single_field_edit_is_reported_at_that_entry(base_chain, tmp_path, seq, field, text):
    base, head = base_chain
    path = _copy(base, tmp_path)
    old = _row(path, seq)[field]
    _attack(path, [(f"UPDATE audit_log SET {field} = ? WHERE seq = ?", (_different(field, old, text), seq))])
    report = _verify(path)
    assert not report.ok
    assert report.first_broken_seq == seq
    assert _verify(path, anchor=head).first_broken_seq == seq


@PROFILE
@given(seq=st.integers(1, N), text=st.text(min_size=1, max_size=5))
def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(base_chain, tmp_path, seq, text):
    base, head = base_chain
    path = _copy(base, tmp_path)
    row = _row(path, seq)
    subject = row["subject"] + text
    at = _dt.datetime.fromisoformat(row["at"]).replace(tzinfo=_dt.timezone.utc)
    new_hash = audit.entry_hash(row["prev_hash"], seq, at.isoformat(), row["operator"], row["action"], subject,
                                json.loads(row["detail"]))
    _attack(path, [("UPDATE audit_log SET subject = ?, hash = ? WHERE seq = ?", (subject, new_hash, seq))])
    if seq < N:
        assert _verify(path).first_broken_seq == seq + 1
    else:
        assert _verify(path).ok  # the newest entry: only the platform's copy of the head shows it
    anchored = _verify(path, anchor=head)
    assert not anchored.ok and anchored.first_broken_seq == min(seq + 1, N)


@PROFILE
@given(seq=st.integers(1, N))
def test_any_single_deletion_is_reported(base_chain, tmp_path, seq):
    base, head = base_chain
    path = _copy(base, tmp_path)
    _attack(path, [("DELETE FROM audit_log WHERE seq = ?", (seq,))])
    report = _verify(path)
    if seq < N:
        assert not report.ok and report.first_broken_seq == seq
    else:
        assert report.ok and report.head_seq == N - 1
    anchored = _verify(path, anchor=head)
    assert not anchored.ok and anchored.first_broken_seq == seq


@PROFILE
@given(pair=st.lists(st.integers(1, N), min_size=2, max_size=2, unique=True))
def test_any_reordering_of_two_entries_is_reported_at_the_earlier(base_chain, tmp_path, pair):
    base, head = base_chain
    i, j = sorted(pair)
    path = _copy(base, tmp_path)
    _attack(path, [("UPDATE audit_log SET seq = -1 WHERE seq = ?", (i,)),
                   ("UPDATE audit_log SET seq = ? WHERE seq = ?", (i, j)),
                   ("UPDATE audit_log SET seq = ? WHERE seq = -1", (j,))])
    assert _verify(path).first_broken_seq == i
    assert _verify(path, anchor=head).first_broken_seq == i


def test_untouched_chain_verifies_and_head_matches(base_chain, tmp_path):
    base, head = base_chain
    report = _verify(_copy(base, tmp_path), anchor=head)
    assert report.ok and report.entries == N and (report.head_seq, report.head) == head


def test_audit_log_rejects_updates_through_the_application(window):
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from counter_app.store.models import AuditEntry

    with window.sessions.begin() as s:
        audit.append(s, "clerk1", "login", "clerk1")
    with pytest.raises(IntegrityError, match="append-only"):
        with window.sessions.begin() as s:
            s.execute(update(AuditEntry).values(operator="someone"))


def test_timestamps_in_any_zone_verify(window):
    china = _dt.timezone(_dt.timedelta(hours=8))
    with window.sessions.begin() as s:
        audit.append(s, "clerk1", "login", "clerk1", at=_dt.datetime(2026, 5, 1, 9, 0, tzinfo=china))
        audit.append(s, "clerk1", "print", "x", {"copies": (1, 2)})
    with window.sessions() as s:
        assert audit.verify(s).ok
