"""The local store: durability settings, migrations, encryption, one open case, immutability."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select, text

from counter_app.cases import CaseError
from counter_app.lifecycle import CaseState, ItemStatus
from counter_app.store.models import CaseTransition, ItemStatusEvent, OutboxEntry
from tests.core.builders import APPLICANT_ID, valid_application
from tests.core.helpers import CLERK, finalized_case


def test_sqlite_runs_with_wal_foreign_keys_and_full_sync(window):
    with window.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_writes_take_the_write_lock_up_front(window):
    """BEGIN IMMEDIATE: a second writer cannot start while a write transaction is open."""
    other = sqlite3.connect(window.db_path, timeout=0)
    with window.sessions.begin() as s:
        s.execute(text("SELECT 1"))
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.rollback()
    other.close()


def test_schema_comes_from_alembic_and_upgrade_keeps_data(window, tmp_path):
    from counter_app.services import open_window
    from counter_app.store.db import current_revision, head_revision

    rec = finalized_case(window)
    assert current_revision(window.engine) == head_revision()
    window.close()
    again = open_window(window.home)
    assert again.cases.get(rec.id).application.applicant.name == "刘建军"
    again.close()


def test_one_open_case_per_id_number(window):
    first = window.cases.create_draft(valid_application(), CLERK)
    with pytest.raises(CaseError) as err:
        window.cases.create_draft(valid_application(applicant__id_number=APPLICANT_ID.lower()), CLERK)
    assert err.value.existing_case_no == first.case_no and first.case_no in err.value.message


def test_a_withdrawn_case_frees_the_id_number(window):
    first = window.cases.create_draft(valid_application(), CLERK)
    window.cases.transition(first.id, CaseState.WITHDRAWN, CLERK, "申请人放弃")
    second = window.cases.create_draft(valid_application(), CLERK)
    assert second.case_no != first.case_no


def test_invalid_id_number_creates_nothing(window):
    with pytest.raises(CaseError, match="校验位"):
        window.cases.create_draft(valid_application(applicant__id_number="410702199802166070"), CLERK)
    assert window.cases.count() == 0


def test_finalize_writes_case_outbox_and_audit_together(window):
    from counter_app import audit

    rec = finalized_case(window)
    assert rec.state is CaseState.QUEUED
    with window.sessions() as s:
        ob = s.execute(select(OutboxEntry)).scalar_one()
        assert ob.case_id == rec.id and ob.business_key == f"{rec.case_no}/v1" and len(ob.idempotency_key) == 36
        actions = [e.action for e in s.execute(select(audit.AuditEntry).order_by(audit.AuditEntry.seq)).scalars()]
        assert actions == ["case_create", "finalize"]
        steps = [(t.from_state, t.to_state, t.operator) for t in s.execute(select(CaseTransition)).scalars()]
    assert steps[-2:] == [("materials_complete", "signed", "clerk01"), ("signed", "queued", "clerk01")]
    assert {p["item"] for p in rec.progress} == set(range(1, 12))
    # 7: by fund arrival; 11: timed from the applicant's visit to the 人武部, so no date yet
    assert all(p["status"] == "pending_push" and p["due"] for p in rec.progress if p["item"] not in (7, 11))
    assert [p["due"] for p in rec.progress if p["item"] in (7, 11)] == [None, None]


def test_finalize_refused_while_a_material_is_missing(window):
    rec = window.cases.create_draft(valid_application(), CLERK)
    app = rec.application
    with pytest.raises(CaseError) as err:
        window.cases.finalize(rec.id, app, CLERK)
    assert any(p.code == "material_missing" for p in err.value.problems)
    with window.sessions() as s:
        assert s.execute(select(OutboxEntry)).first() is None
    assert window.cases.get(rec.id).state is CaseState.DRAFT


def test_finalized_case_is_immutable_in_service_and_in_sqlite(window):
    rec = finalized_case(window)
    with pytest.raises(CaseError, match="已定稿"):
        window.cases.save_draft(rec.id, rec.application, CLERK)
    raw = sqlite3.connect(window.db_path)
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        raw.execute("UPDATE cases SET payload_enc = x'00' WHERE id = ?", (rec.id,))
    raw.close()


def test_correction_creates_a_new_version_and_keeps_the_old(window):
    rec = finalized_case(window)
    new = window.cases.start_correction(rec.id, CLERK, "联系电话登记错误")
    assert (new.case_no, new.version, new.supersedes_id) == (rec.case_no, 2, rec.id)
    app = new.application
    app.applicant.phone = "13900000000"
    window.cases.save_draft(new.id, app, CLERK)
    old = window.cases.get(rec.id)
    assert old.application.applicant.phone == "13803731234" and old.state is CaseState.QUEUED


def test_department_status_history_fills_skipped_steps(window):
    rec = finalized_case(window)
    assert window.cases.record_item_status(rec.id, 8, ItemStatus.CARD_MAKING, note="已制卡")
    assert not window.cases.record_item_status(rec.id, 8, ItemStatus.CARD_MAKING)
    with window.sessions() as s:
        steps = [e.to_status for e in s.execute(select(ItemStatusEvent).where(ItemStatusEvent.item == 8)
                                                .order_by(ItemStatusEvent.id)).scalars()]
    assert steps == ["pushed", "accepted", "approved", "card_making"]
    with pytest.raises(CaseError):
        window.cases.record_item_status(rec.id, 8, ItemStatus.ACCEPTED)


def test_lists_are_masked(window):
    finalized_case(window)
    row = window.cases.list_cases()[0]
    assert row.masked_name == "刘*军"
    assert row.masked_id == APPLICANT_ID[:3] + "*" * 11 + APPLICANT_ID[-4:]


def test_attachments_are_content_addressed_and_encrypted(window):
    data = b"scan of the discharge certificate" * 100
    h = window.cases.put_attachment(data, "image/jpeg")
    assert window.cases.put_attachment(data, "image/jpeg") == h
    on_disk = window.files.path_for(h).read_bytes()
    assert b"discharge" not in on_disk
    assert window.files.get(h) == data


def test_tampered_attachment_is_detected(window):
    from counter_app.store.files import AttachmentCorrupt

    h = window.cases.put_attachment(b"x" * 1000, "image/jpeg")
    p = window.files.path_for(h)
    blob = bytearray(p.read_bytes())
    blob[-5] ^= 1
    p.write_bytes(bytes(blob))
    with pytest.raises(AttachmentCorrupt):
        window.files.get(h)


def test_export_import_round_trip(window):
    from counter_app.application import application_to_dict

    rec = finalized_case(window)
    data = window.cases.export(rec.id)
    assert data["schema"] == "counter-app/case/v1" and data["content_digest"]
    window.cases.transition(rec.id, CaseState.ACKNOWLEDGED, CLERK)
    window.cases.transition(rec.id, CaseState.REJECTED, CLERK)
    imported, problems = window.cases.import_case(data, CLERK)
    assert application_to_dict(imported.application)["applicant"] == data["application"]["applicant"]
    assert imported.case_no != rec.case_no and imported.state is CaseState.DRAFT


def test_case_numbers_count_per_window_and_day(window):
    from counter_app.case_number import CaseNumber
    from tests.core.builders import idn

    a = window.cases.create_draft(valid_application(), CLERK)
    b = window.cases.create_draft(valid_application(applicant__id_number=idn("41070219990101001"),
                                                    applicant__birth_date="1999-01-01"), CLERK)
    na, nb = CaseNumber.parse(a.case_no), CaseNumber.parse(b.case_no)
    assert (na.center, na.window) == ("410702", "01") and nb.sequence == na.sequence + 1


def test_exported_case_matches_the_documented_json_schema(window):
    import json
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[2] / "docs" / "case-schema.json").read_text("utf-8"))
    rec = finalized_case(window)
    jsonschema.validate(window.cases.export(rec.id), schema)
    sample = json.loads((Path(__file__).resolve().parents[1] / "data" / "sample_case.json").read_text("utf-8"))
    jsonschema.validate(sample, schema)


def test_finalize_returns_exactly_what_was_stored(window):
    rec = finalized_case(window)
    again = window.cases.get(rec.id)
    for field in ("case_no", "version", "state", "center_code", "window_no", "operator", "accepted_on",
                  "content_digest", "seal", "supersedes_id"):
        assert getattr(rec, field) == getattr(again, field), field
    assert rec.progress == again.progress
    assert rec.transitions == again.transitions
    assert sorted(rec.attachments, key=str) == sorted(again.attachments, key=str)
    assert rec.outbox == again.outbox
    from counter_app.application import application_to_dict

    assert application_to_dict(rec.application) == application_to_dict(again.application)


def test_sla_follows_department_progress(window):
    rec = finalized_case(window)
    window.cases.record_item_status(rec.id, 1, ItemStatus.COMPLETED)
    window.cases.record_item_status(rec.id, 4, ItemStatus.NOT_ACCEPTED, note="材料不全")
    prog = {p["item"]: p for p in window.cases.get(rec.id).progress}
    assert prog[1]["sla"] == "done" and prog[4]["sla"] == "done"
    assert prog[9]["sla"] in ("on_time", "at_risk")
