"""A center with two windows and one supervisor, end to end over real HTTP: claims on the shared
worklist, one open case per person across the center, a correction approved by the supervisor and
sealed, and the supervisor's figures for the whole center — fresh, then from the cache offline."""
from __future__ import annotations

import datetime as _dt
import io
import json
import random

import pdfplumber

import pytest
import requests

from counter_app.cases import Actor
from counter_app.clock import CHINA_TZ
from counter_app.sync import contract as C
from counter_app.sync.center_report import center_figures, center_report_data
from counter_app.sync.claims import ClaimedElsewhere, claim_entry, claim_note, open_case_elsewhere, release_entry
from counter_app.sync.client import PlatformClient, RejectedError, TransientError
from counter_app.sync.outbox import OutboxDrainer, build_submission
from counter_app.sync.worklist import fetch_worklist, worklist_entries
from printing.report import render_daily_report
from tests.sync.conftest import enrol_seal_key
from tests.sync.helpers import CLERK, SUPERVISOR_TOKEN, TOKEN, finalized_case, outbox_counts

B_TOKEN = "window-b-token-0002"
SUPERVISOR = Actor("supervisor01", "supervisor")


@pytest.fixture
def center(sync_window, platform, tmp_path, monkeypatch):
    """Window A (the test window, 01), window B (02) of the same center, both enrolled with their
    seal keys, and the center's supervisor (an account at A's PC, a credential on the platform)."""
    from counter_app.config import load_settings
    from counter_app.security import access
    from counter_app.security.operators import INSTALLER
    from counter_app.services import open_window
    from refplatform.credentials import Enrolment

    home = tmp_path / "window-b"
    home.mkdir()
    settings = load_settings(home / "config.toml")
    settings.set("window_no", "02")
    settings.save()
    b = open_window(home)
    platform.store.enrol(Enrolment.parse(f"{B_TOKEN}@410702-02"))
    enrol_seal_key(platform, b)
    d = access.directory(sync_window)
    d.add(INSTALLER, "admin01", "it_admin", "王管理", "Keys-and-roots-2026!")
    d.add(Actor("admin01", "it_admin"), "supervisor01", "supervisor", "陈刚", "Review-one-1")
    yield {"a": sync_window, "b": b, "ca": PlatformClient(platform.url, TOKEN, requests.Session()),
           "cb": PlatformClient(platform.url, B_TOKEN, requests.Session()),
           "sup": PlatformClient(platform.url, SUPERVISOR_TOKEN, requests.Session())}
    b.close()


def _drain(window, client, fast_policy) -> None:
    OutboxDrainer(window, client, policy=fast_policy).drain()


def test_two_windows_one_supervisor(center, platform, fast_policy):
    a, b, ca, cb = center["a"], center["b"], center["ca"], center["cb"]
    today = platform.clock.now().astimezone(CHINA_TZ).date()

    # ---- claims: both windows see the online application; opening it claims it -------------
    fetch_worklist(a, ca, day=today)
    fetch_worklist(b, cb, day=today)
    entry = worklist_entries(a)[0]
    pid = entry["platform_id"]
    assert pid in {e["platform_id"] for e in worklist_entries(b)}
    assert claim_entry(a, pid, client=ca)["window_no"] == "01"
    with pytest.raises(ClaimedElsewhere) as exc:
        claim_entry(b, pid, client=cb)
    assert exc.value.window_no == "01" and "正在01号窗口受理" in exc.value.message
    fetch_worklist(b, cb, day=today)
    shown = {e["platform_id"]: e for e in worklist_entries(b)}[pid]
    assert claim_note(shown, "02") == "正在01号窗口受理"  # B's worklist says who is accepting it
    assert claim_note(shown, "01") == ""
    release_entry(a, pid, client=ca)                     # A's clerk cancelled
    assert claim_entry(b, pid, client=cb)["window_no"] == "02"
    with pytest.raises(TransientError) as raw:           # the contract's answer under the helper
        ca.claim(pid)
    assert raw.value.code == C.E_CLAIMED_ELSEWHERE and raw.value.status == 409
    platform.clock.advance(31 * 60)                      # B's clerk walked away: the claim expires
    assert claim_entry(a, pid, client=ca)["window_no"] == "01"

    # ---- one open case per person across the center --------------------------------------
    rec_a = finalized_case(a, random.Random(41))
    _drain(a, ca, fast_policy)
    assert outbox_counts(a).get("acked") == 1
    person = rec_a.application.applicant

    def same_person(app):  # the same veteran walks in at window B
        app.applicant = rec_a.application.applicant

    assert open_case_elsewhere(b, person.id_number, client=cb)["case_no"] == rec_a.case_no  # asked before it starts
    rec_b = finalized_case(b, random.Random(42), mutate=same_person)
    sub_b = build_submission(b, rec_b.id)
    for h in C.attachment_hashes(sub_b["case"]):
        cb.upload_attachment(h, b.files.get(h))
    with pytest.raises(RejectedError) as exc:
        cb.submit_case(rec_b.outbox["idempotency_key"], sub_b)
    assert exc.value.code == C.E_PERSON_OPEN_CASE and rec_a.case_no in exc.value.message
    other = finalized_case(b, random.Random(43))       # another veteran at B
    _drain(b, cb, fast_policy)                         # the refused case goes to B's quarantine lane
    assert outbox_counts(b) == {"quarantined": 1, "acked": 1}
    assert ca.list_cases()["total"] == 1 and cb.list_cases()["total"] == 1

    # ---- a correction at A, approved by the supervisor, sealed, accepted ---------------------
    draft = a.cases.start_correction(rec_a.id, CLERK, "联系电话录入错误")
    fixed = draft.application
    fixed.applicant.phone = "13912345678"
    a.cases.save_draft(draft.id, fixed, CLERK)
    a.cases.approve_correction(draft.id, SUPERVISOR)
    v2 = a.cases.finalize(draft.id, fixed, CLERK)
    sub_v2 = build_submission(a, v2.id)
    assert sub_v2["case"]["correction"]["approved_by"] == "supervisor01"
    answer, _ = ca.submit_case(v2.outbox["idempotency_key"], sub_v2)
    assert answer["receipt"]["business_key"] == f"{rec_a.case_no}/v2" and answer["receipt"]["seal_verified"] is True

    # ---- the supervisor's figures for the whole center (masked), cached for offline use ------
    report = center["sup"].center_report(today)
    assert report["accepted"] == 2
    assert {(w["window_no"], w["accepted"]) for w in report["by_window"]} == {("01", 1), ("02", 1)}
    text = json.dumps(report, ensure_ascii=False)
    assert person.name not in text and person.id_number not in text
    fresh = center_figures(b, today, client=cb)
    assert not fresh.offline and fresh.report["accepted"] == 2 and fresh.stamp.startswith("截至")
    # the daily report for the whole center, printed at B's PC: A's case is on it too
    pdf = render_daily_report(center_report_data(fresh, center="测试服务中心", operator="supervisor01",
                                                  printed_at=_dt.datetime.now(CHINA_TZ))).pdf
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "".join(page.extract_text() or "" for page in doc.pages)
    assert rec_a.case_no in text and other.case_no in text and person.name not in text
    cache = b.home / "center-report" / f"{today.isoformat()}.bin"
    assert cache.stat().st_mode & 0o777 == 0o600 and person.name.encode() not in cache.read_bytes()
    platform.stop()
    offline = center_figures(b, today, client=cb)
    assert offline.offline and offline.report == fresh.report
    assert "截至" in offline.stamp and "无法连接" in offline.stamp


def test_a_case_for_an_online_application_another_window_holds_is_refused(center, platform):
    """Window B made a case from an online application while window A held its claim: the
    platform refuses B's submission (409 claimed_elsewhere) and takes A's afterwards."""
    a, b, ca, cb = center["a"], center["b"], center["ca"], center["cb"]
    today = platform.clock.now().astimezone(CHINA_TZ).date()
    fetch_worklist(a, ca, day=today)
    pid = worklist_entries(a)[0]["platform_id"]
    claim_entry(a, pid, client=ca)

    def from_online(app):
        app.source, app.online_application_id = "online", pid

    rec_b = finalized_case(b, random.Random(51), mutate=from_online)
    sub_b = build_submission(b, rec_b.id)
    for h in C.attachment_hashes(sub_b["case"]):
        cb.upload_attachment(h, b.files.get(h))
    with pytest.raises(TransientError) as refused:
        cb.submit_case(rec_b.outbox["idempotency_key"], sub_b)
    assert refused.value.status == 409 and refused.value.code == C.E_CLAIMED_ELSEWHERE
    assert "正在01号窗口受理" in refused.value.message
    assert cb.list_cases()["total"] == 0

    rec_a = finalized_case(a, random.Random(52), mutate=from_online)
    sub_a = build_submission(a, rec_a.id)
    for h in C.attachment_hashes(sub_a["case"]):
        ca.upload_attachment(h, a.files.get(h))
    answer, _ = ca.submit_case(rec_a.outbox["idempotency_key"], sub_a)
    assert answer["receipt"]["business_key"] == f"{rec_a.case_no}/v1"
    # once taken, no other case can be made from it either
    with pytest.raises(TransientError) as taken:
        cb.submit_case(rec_b.outbox["idempotency_key"], sub_b)
    assert taken.value.code == C.E_CLAIMED_ELSEWHERE and rec_a.case_no in taken.value.message
