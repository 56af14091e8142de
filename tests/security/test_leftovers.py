"""Nothing personal is kept longer than its purpose: withdrawn cases (also with retention 0),
abandoned drafts and orphaned attachment files are purged by the retention run."""
from __future__ import annotations

import datetime as _dt
import os

from counter_app.cases import Actor
from counter_app.lifecycle import CaseState
from counter_app.security.retention import run_retention
from tests.security.casework import finalizable, finalize_case, form_pdf

CLERK = Actor("clerk1", "clerk")


def _payload(window, case_id):
    from counter_app.store.models import CaseRow

    with window.sessions() as s:
        row = s.get(CaseRow, case_id)
        return row.payload_enc, row.purged_at


def test_a_withdrawn_case_is_purged_with_retention_zero(window):
    app = finalizable(window, 71)
    draft = window.cases.create_draft(app, CLERK)
    window.cases.transition(draft.id, CaseState.WITHDRAWN, CLERK, "申请人不办了")
    report = run_retention(window, retention_days=0, now=_dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=1))
    assert draft.case_no in report.cases
    payload, purged_at = _payload(window, draft.id)
    assert payload is None and purged_at is not None


def test_abandoned_drafts_are_withdrawn_and_purged_with_their_files(window):
    app = finalizable(window, 72)
    stale = window.cases.create_draft(app, CLERK)
    files = [app.photo, app.signature, *app.material(3).attachments]
    assert all(window.files.exists(h) for h in files)
    live_app = finalizable(window, 73)
    live = window.cases.create_draft(live_app, CLERK)
    later = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(days=window.settings.draft_retention_days + 1)
    # The live draft was touched yesterday (relative to "later").
    from counter_app.store.models import CaseRow

    with window.sessions.begin() as s:
        s.get(CaseRow, live.id).updated_at = later - _dt.timedelta(days=1)
    report = run_retention(window, now=later)
    assert report.drafts_withdrawn == [stale.case_no]
    assert _payload(window, stale.id)[0] is None
    assert window.cases.get(stale.id).state == CaseState.WITHDRAWN
    assert not any(window.files.exists(h) for h in files if h not in (live_app.photo, live_app.signature))
    assert window.cases.get(live.id).application.applicant.name == live_app.applicant.name
    assert all(window.files.exists(h) for h in (live_app.photo, live_app.signature))


def test_orphaned_attachment_files_are_collected_and_referenced_ones_kept(window):
    rec, app, _ = finalize_case(window, 74)
    orphan = window.cases.put_attachment(os.urandom(5000), "image/jpeg")  # a capture whose draft never came
    fresh = window.cases.put_attachment(os.urandom(5000), "image/jpeg")
    later = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(days=2)
    os.utime(window.files.path_for(fresh), (later.timestamp(), later.timestamp()))  # captured "just now"
    report = run_retention(window, now=later)
    assert report.orphans_deleted == 1
    assert not window.files.exists(orphan) and window.files.exists(fresh)
    assert all(window.files.exists(h) for h in (app.photo, app.signature))


def test_files_a_case_refers_to_after_acceptance_are_kept_until_the_case_is_purged(window):
    """The 落户介绍信 scanned back and a receiver's handover signature live outside the sealed attachments;
    the orphan sweep keeps them, the purge of their case takes them."""
    from counter_app.delivery import record_handover
    from counter_app.lifecycle import ItemStatus
    from counter_app.security.retention import purge_case
    from counter_app.sync.followups import queue_settlement_letter
    from tests.core.helpers import CLERK as CORE_CLERK

    app = finalizable(window, 75)
    app.items = sorted(set(app.items) | {4, 8})
    app.settlement_letter_scan = None                       # stamped after printing: scanned back later
    rec = window.cases.create_draft(app, CORE_CLERK)
    rec = window.cases.finalize(rec.id, app, CORE_CLERK, form_pdf=form_pdf(app, rec.case_no))
    letter = queue_settlement_letter(window, rec.id, b"%PDF-1.7 stamped " + os.urandom(64), "application/pdf",
                                     CORE_CLERK)
    window.cases.record_item_status(rec.id, 8, ItemStatus.CARD_MAKING)
    sig = window.cases.put_attachment(b"\x89PNG receiver " + os.urandom(64), "image/png")
    record_handover(window.cases, rec.id, 8, "pickup", CORE_CLERK, handed_by="人社局", received_by="刘涛", signature=sig)
    later = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(days=2)
    run_retention(window, now=later)
    assert window.files.exists(letter) and window.files.exists(sig)
    purge_case(window, rec.case_no, now=later)
    assert not window.files.exists(letter) and not window.files.exists(sig)
