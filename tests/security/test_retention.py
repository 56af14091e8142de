"""Retention: personal data and files of finished cases are purged after the configured period,
keeping the audit trail and a masked receipt; audit entries are kept at least six months and
archived only behind a checkpoint the chain still verifies through."""
from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import shutil
import sqlite3
import uuid

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from counter_app import audit
from counter_app.cases import SYSTEM, CaseError
from counter_app.lifecycle import CaseState, ItemStatus
from counter_app.security import access
from counter_app.security.archive import verify_case
from counter_app.security.retention import run_retention
from counter_app.store.db import make_engine, open_database
from counter_app.store.models import Attachment, AuditEntry, CaseRow, WorklistEntry
from tests.security.casework import finalizable, finalize_case, form_pdf

UTC = _dt.timezone.utc


def complete(window, rec):
    """The platform acknowledges the case, then every department finishes its item."""
    with window.sessions.begin() as s:
        window.cases.mark_acknowledged(s, s.get(CaseRow, rec.id))
    for n in rec.application.items:
        window.cases.record_item_status(rec.id, n, ItemStatus.COMPLETED if n != 8 else ItemStatus.COLLECTED)
    assert window.cases.get(rec.id).state == CaseState.COMPLETED


def later(days):
    return _dt.datetime.now(UTC) + _dt.timedelta(days=days)


def _row(window, case_id):
    with window.sessions() as s:
        return s.get(CaseRow, case_id)


def test_finished_case_is_purged_after_the_period_keeping_a_masked_receipt(staffed_window, staff):
    w = staffed_window
    rec, app, _ = finalize_case(w, 61, actor=staff["clerk1"])
    other, _, _ = finalize_case(w, 62, actor=staff["clerk1"])  # shares the photo (same bytes, same hash)
    complete(w, rec)
    own_files = {a["sha256"]: a["role"] for a in rec.attachments if a["role"] != "photo"}
    photo = next(a["sha256"] for a in rec.attachments if a["role"] == "photo")
    assert photo in {a["sha256"] for a in other.attachments}

    assert run_retention(w, now=later(29)).cases == []
    assert _row(w, rec.id).payload_enc is not None
    report = run_retention(w, now=later(31))
    assert report.cases == [rec.case_no] and report.files_deleted == len(own_files) and report.files_kept_shared == 1

    row = _row(w, rec.id)
    assert row.payload_enc is None and row.phone_bidx is None and row.purged_at is not None
    n = app.applicant.name
    assert row.masked_summary["name"] == (n[0] + "*" * (len(n) - 2) + n[-1] if len(n) > 2 else n[0] + "*")
    assert row.masked_summary["id_number"] == app.applicant.id_number[:3] + "*" * 11 + app.applicant.id_number[-4:]
    assert row.content_digest and row.seal  # the seal stays: the record of what was signed
    for sha in own_files:
        assert not w.files.exists(sha)
    assert w.files.exists(photo) and w.files.get(photo)  # still needed by the other case
    with w.sessions() as s:
        assert all(s.get(Attachment, sha).purged_at is not None for sha in own_files)
        assert s.get(Attachment, photo).purged_at is None
    # Lists and the ID-number lookup still find the masked receipt; nobody can reveal it any more.
    hits = w.cases.find_by_id_number(app.applicant.id_number)
    assert [(h.case_no, h.masked_name) for h in hits] == [(rec.case_no, row.masked_summary["name"])]
    with pytest.raises(CaseError, match="已按保留期限清除"):
        access.reveal_case(w, staff["sup1"], rec.case_no)
    # The archive check reports the purge and still verifies the seal over the kept digest.
    arch = verify_case(w, rec.case_no)
    assert arch.ok and arch.purged
    assert {c.name: c.ok for c in arch.checks}["seal"] is True
    with w.sessions() as s:
        purge = s.execute(select(AuditEntry).where(AuditEntry.action == "purge")).scalar_one()
        assert purge.subject == rec.case_no and app.applicant.name not in str(purge.detail)
        assert audit.verify(s).ok
    # The other case is untouched, and a second run finds nothing to do.
    assert w.cases.get(other.id).application.applicant.name
    assert run_retention(w, now=later(31)).cases == []


def test_retention_days_come_from_the_settings(window):
    rec, _, _ = finalize_case(window, 63)
    complete(window, rec)
    window.settings.set("retention_days", 90)
    assert run_retention(window, now=later(60)).cases == []
    assert run_retention(window, now=later(91)).cases == [rec.case_no]


def test_open_cases_are_never_purged(window):
    rec, _, _ = finalize_case(window, 64)  # queued, never completed
    assert run_retention(window, now=later(400)).cases == []
    assert _row(window, rec.id).payload_enc is not None


def test_a_file_a_draft_still_points_at_is_kept(window):
    rec, app, _ = finalize_case(window, 65)
    complete(window, rec)
    draft_app = finalizable(window, 66)
    draft_app.signature = app.signature  # the same signature image re-used in a new draft
    window.cases.create_draft(draft_app, SYSTEM)
    window.settings.set("draft_retention_days", 60)  # the draft is still being worked on
    run_retention(window, now=later(31))
    assert window.files.exists(app.signature)
    assert not window.files.exists(app.material(3).attachments[0])


def test_all_versions_of_a_corrected_case_are_purged(staffed_window, staff):
    w = staffed_window
    rec, _, _ = finalize_case(w, 67, actor=staff["clerk1"])
    draft = w.cases.start_correction(rec.id, staff["clerk1"], "地址录入错误")
    w.cases.approve_correction(draft.id, staff["sup1"])
    v2 = w.cases.finalize(draft.id, draft.application, staff["clerk1"], form_pdf=form_pdf(draft.application, "v2"))
    complete(w, v2)
    report = run_retention(w, now=later(31))
    assert report.cases == [rec.case_no] and report.rows == 2
    assert _row(w, rec.id).payload_enc is None and _row(w, v2.id).payload_enc is None


def test_worklist_entry_of_a_purged_case_is_deleted(window):
    rec, _, _ = finalize_case(window, 68)
    with window.sessions.begin() as s:
        s.add(WorklistEntry(platform_id="P-1", id_bidx="x", payload_enc=b"CV1...", taken_case_id=rec.id))
    complete(window, rec)
    run_retention(window, now=later(31))
    with window.sessions() as s:
        assert s.get(WorklistEntry, "P-1") is None


def test_files_left_by_a_crash_after_commit_are_swept(window, monkeypatch):
    rec, app, _ = finalize_case(window, 69)
    complete(window, rec)
    monkeypatch.setattr(type(window.files), "delete", lambda self, sha: None)  # the process dies here
    run_retention(window, now=later(31))
    assert window.files.exists(app.signature)
    monkeypatch.undo()
    run_retention(window, now=later(32))
    assert not window.files.exists(app.signature)


# ---- audit retention --------------------------------------------------------------------------

def MAC(text: str) -> str:  # noqa: N802 - the window passes vault.blind_index; any keyed MAC will do here
    return hmac.new(b"test checkpoint key", text.encode("utf-8"), hashlib.sha256).hexdigest()


def test_audit_archive_refuses_anything_younger_than_six_months(window):
    now = _dt.datetime(2026, 11, 30, tzinfo=UTC)
    with window.sessions.begin() as s:
        with pytest.raises(audit.AuditError, match="至少保留6个月"):
            audit.archive_older_than(s, now - _dt.timedelta(days=170), window.home / "arch", mac=MAC, now=now)


def test_audit_archive_leaves_a_checkpoint_the_chain_verifies_through(window):
    now = _dt.datetime(2026, 11, 30, tzinfo=UTC)
    with window.sessions.begin() as s:
        for i in range(6):
            audit.append(s, "clerk1", "login", "clerk1", at=now - _dt.timedelta(days=300 - 10 * i))
        for i in range(3):
            audit.append(s, "clerk1", "print", "x", at=now - _dt.timedelta(days=30 - i))
    with window.sessions.begin() as s:
        cp = audit.archive_older_than(s, audit.months_before(now, 7), window.home / "arch", mac=MAC, now=now)
    assert (cp["from_seq"], cp["through_seq"], cp["entries"]) == (1, 6, 6)
    with window.sessions() as s:
        seqs = [e.seq for e in s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()]
        report = audit.verify(s, mac=MAC)
    assert seqs == [7, 8, 9, 10] and report.ok and report.first_seq == 7
    ok, why = audit.verify_archive_file(window.home / "arch" / cp["archive_file"], cp)
    assert ok, why
    # Deleting one more entry is still caught, and so is a checkpoint forged without the key.
    window.engine.dispose()
    con = sqlite3.connect(window.db_path)
    con.execute("DELETE FROM audit_log WHERE seq = 7")
    con.commit()
    con.close()
    with sessionmaker(make_engine(window.db_path))() as s:
        bad = audit.verify(s, mac=MAC)
    assert not bad.ok and bad.first_broken_seq == 7


def test_a_forged_checkpoint_fails_the_mac(window):
    now = _dt.datetime(2026, 11, 30, tzinfo=UTC)
    with window.sessions.begin() as s:
        for i in range(4):
            audit.append(s, "clerk1", "login", "clerk1", at=now - _dt.timedelta(days=300 - i))
        audit.append(s, "clerk1", "logout", "clerk1", at=now)
        third = s.get(AuditEntry, 3)
        # An attacker removes entries 1-3 and appends a checkpoint of their own.
        audit.append(s, "system", "audit_archive", "#1-3",
                     {"through_seq": 3, "through_hash": third.hash, "archive_sha256": "0" * 64, "mac": "forged"})
    window.engine.dispose()
    con = sqlite3.connect(window.db_path)
    con.execute("DELETE FROM audit_log WHERE seq <= 3")
    con.commit()
    con.close()
    with sessionmaker(make_engine(window.db_path))() as s:
        assert audit.verify(s).ok  # without the key the checkpoint is taken on trust…
        forged = audit.verify(s, mac=MAC)
    assert not forged.ok and forged.first_broken_seq == 6 and "校验码不符" in forged.message  # …with it, not


def test_a_tampered_archive_file_is_detected(window):
    now = _dt.datetime(2026, 11, 30, tzinfo=UTC)
    with window.sessions.begin() as s:
        for i in range(3):
            audit.append(s, "clerk1", "login", "clerk1", at=now - _dt.timedelta(days=400 - i))
        audit.append(s, "clerk1", "login", "clerk1", at=now)
    with window.sessions.begin() as s:
        cp = audit.archive_older_than(s, audit.months_before(now, 6), window.home / "arch", mac=MAC, now=now)
    path = window.home / "arch" / cp["archive_file"]
    path.write_text(path.read_text(encoding="utf-8").replace("login", "logix", 1), encoding="utf-8")
    ok, why = audit.verify_archive_file(path, cp)
    assert not ok and "摘要" in why


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("auditret") / "empty.sqlite3"
    engine, _ = open_database(path)
    engine.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ages=st.lists(st.integers(0, 900), min_size=1, max_size=25), months=st.integers(6, 30),
       clock_jump=st.booleans())
def test_archiving_never_removes_an_entry_younger_than_six_months(empty_db, tmp_path, ages, months, clock_jump):
    now = _dt.datetime(2026, 11, 30, 12, tzinfo=UTC)
    ages = sorted(ages, reverse=True)  # appended oldest first…
    if clock_jump and len(ages) > 2:
        ages[1], ages[-1] = ages[-1], ages[1]  # …except when the clock was set wrong for a while
    path = tmp_path / f"{uuid.uuid4().hex}.sqlite3"
    shutil.copyfile(empty_db, path)
    engine = make_engine(path)
    sessions = sessionmaker(engine)
    try:
        with sessions.begin() as s:
            for i, age in enumerate(ages):
                audit.append(s, "clerk1", "print", f"#{i}", at=now - _dt.timedelta(days=age))
        with sessions.begin() as s:
            audit.archive_older_than(s, audit.months_before(now, months), tmp_path / "arch", mac=MAC, now=now)
        with sessions() as s:
            kept = {e.subject for e in s.execute(select(AuditEntry)).scalars()}
            assert audit.verify(s, mac=MAC).ok
        six_months_ago = audit.months_before(now, 6)
        for i, age in enumerate(ages):
            if now - _dt.timedelta(days=age) >= six_months_ago:
                assert f"#{i}" in kept
    finally:
        engine.dispose()
