"""Draining the outbox against the real platform, with real faults between them."""
from __future__ import annotations

import datetime as _dt
import random

import pytest
import requests
from sqlalchemy import select

from counter_app import audit
from counter_app.lifecycle import CaseState, ItemStatus
from counter_app.store.models import AuditEntry, OutboxEntry
from counter_app.sync import contract as C
from counter_app.sync.backoff import RetryPolicy
from counter_app.sync.client import PlatformClient, client_for
from counter_app.sync.outbox import OutboxDrainer, requeue, waiting_entries
from tests.sync.faultproxy import CUT, DELAY, PASS, REFUSE, RESPOND, FaultProxy
from tests.sync.helpers import TOKEN, make_cases, outbox_counts


def _server_keys(platform) -> list[str]:
    items = platform.store.list_cases(page_size=1000)["items"]
    return [c["business_key"] for c in items]


def _drainer(window, url: str, policy, *, timeout=(2.0, 5.0)) -> OutboxDrainer:
    client = PlatformClient(url, TOKEN, requests.Session(), timeout=timeout)
    return OutboxDrainer(window, client, policy=policy)


def test_drain_sends_oldest_first_and_acknowledges_in_one_transaction(sync_window, platform, fast_policy):
    w = sync_window
    recs = make_cases(w, 4, seed=21)
    report = OutboxDrainer(w, client_for(w), policy=fast_policy).drain()
    assert (report.sent, report.replayed, report.quarantined, report.stop) == (4, 0, 0, None)
    assert _server_keys(platform) == [f"{r.case_no}/v1" for r in recs]  # oldest first
    for r in recs:
        got = w.cases.get(r.id)
        assert got.state == CaseState.ACKNOWLEDGED
        assert got.outbox["status"] == "acked"
        assert {p["status"] for p in got.progress} == {ItemStatus.PUSHED.value}
    with w.sessions() as s:
        acks = s.execute(select(AuditEntry).where(AuditEntry.action == "sync_ack")).scalars().all()
        assert sorted(a.subject for a in acks) == sorted(r.case_no for r in recs)
        assert audit.verify(s).ok
        receipt = s.execute(select(OutboxEntry.receipt)).scalars().first()
        assert receipt["platform_case_id"].startswith("HN410702")
    # The audit head travelled with the submission.
    first = platform.store.list_cases()["items"][0]["platform_case_id"]
    assert platform.store.get_case(first)["audit_head"]["seq"] > 0


def test_lost_answer_resent_is_recognised_not_doubled(sync_window, platform, fast_policy):
    """The same case sent twice: the window forgets the platform's answer (as after a crash between
    the platform answering and the window committing the ack) and sends it again."""
    w = sync_window
    rec = make_cases(w, 1, seed=22)[0]
    OutboxDrainer(w, client_for(w), policy=fast_policy).drain()
    with w.sessions.begin() as s:
        e = s.execute(select(OutboxEntry)).scalar_one()
        e.status, e.receipt = "waiting", None
    report = OutboxDrainer(w, client_for(w), policy=fast_policy).drain()
    assert (report.sent, report.replayed) == (0, 1)
    listing = platform.store.list_cases()
    assert listing["total"] == 1 and listing["items"][0]["received_count"] == 2
    assert w.cases.get(rec.id).outbox["status"] == "acked"


@pytest.mark.parametrize("target", ["POST /api/v1/cases", "PUT /api/v1/attachments/"])
def test_connection_cut_after_request_body_sent(sync_window, platform, fast_policy, target):
    w = sync_window
    make_cases(w, 3, seed=23)
    method, path = target.split(" ")

    cuts = {"left": 2}

    def faults(m, p, n):  # cut the first two such exchanges after the server processed them
        if m == method and p.startswith(path) and cuts["left"] > 0:
            cuts["left"] -= 1
            return CUT
        return PASS

    with FaultProxy(("127.0.0.1", platform.port), faults) as proxy:
        drainer = _drainer(w, proxy.url, fast_policy)
        reports = []
        while waiting_entries(w):
            r = drainer.drain(ignore_schedule=True)
            reports.append(r)
            assert len(reports) < 10
        assert proxy.seen(method, path, "cut") == 2
    assert reports[0].stop == "offline" and "无法连接" in reports[0].error
    listing = platform.store.list_cases()
    assert listing["total"] == 3 and all(c["attachments_held"] for c in listing["items"])
    assert outbox_counts(w) == {"acked": 3}
    if method == "POST":
        assert sum(c["received_count"] for c in listing["items"]) == 5  # two answers were lost and resent


def test_timeouts_and_slow_responses(sync_window, platform, fast_policy):
    w = sync_window
    make_cases(w, 3, seed=24)

    def faults(m, p, n):
        if m == "POST" and p == "/api/v1/cases":
            return DELAY(1.5) if n == 0 else DELAY(0.2)  # first beyond the read timeout, then merely slow
        return PASS

    with FaultProxy(("127.0.0.1", platform.port), faults) as proxy:
        drainer = _drainer(w, proxy.url, fast_policy, timeout=(1.0, 0.8))
        first = drainer.drain(ignore_schedule=True)
        assert first.stop == "offline" and "超时" in first.error
        second = drainer.drain(ignore_schedule=True)
        assert second.stop is None and second.acked == 3
    listing = platform.store.list_cases()["items"]
    assert len(listing) == 3 and sorted(c["received_count"] for c in listing) == [1, 1, 2]


def test_5xx_burst_backs_off_honouring_retry_after(sync_window, platform):
    w = sync_window
    make_cases(w, 2, seed=25)
    burst = {"left": 3}

    def faults(m, p, n):
        if m == "POST" and p == "/api/v1/cases" and burst["left"] > 0:
            burst["left"] -= 1
            return RESPOND(503, b"busy", {"Retry-After": "7"})
        return PASS

    policy = RetryPolicy(base=0.01, cap=0.05, rng=random.Random(1))
    with FaultProxy(("127.0.0.1", platform.port), faults) as proxy:
        drainer = _drainer(w, proxy.url, policy)
        before = _dt.datetime.now(_dt.timezone.utc)
        r = drainer.drain()
        assert (r.stop, r.retry_after, r.acked) == ("busy", 7.0, 0)
        with w.sessions() as s:
            e = s.execute(select(OutboxEntry).order_by(OutboxEntry.id)).scalars().first()
            assert e.attempts == 1 and "暂时无法处理" in e.last_error
            assert e.next_attempt_at >= before + _dt.timedelta(seconds=7)  # never sooner than asked
            first_id = e.id
        # A scheduled pass leaves the first case alone until its time and tries the next one.
        assert drainer.drain().stop == "busy"
        assert proxy.seen("POST", "/api/v1/cases") == 2
        with w.sessions() as s:
            assert s.get(OutboxEntry, first_id).attempts == 1
        # The clerk's "send now" ignores the schedule.
        reports = [drainer.drain(ignore_schedule=True) for _ in range(2)]
    assert [x.stop for x in reports] == ["busy", None]
    assert reports[-1].acked == 2 and outbox_counts(w) == {"acked": 2}


def test_bad_case_goes_to_quarantine_and_the_queue_goes_on(sync_window, platform, fast_policy, tmp_path):
    """Two PCs misconfigured with the same window number make the same case numbers: the platform
    refuses the second window's case (same business key, other content); the others still go."""
    from counter_app.services import open_window

    w = sync_window
    other = open_window(tmp_path / "other-window")
    try:
        clash = make_cases(other, 1, seed=99)[0]
        OutboxDrainer(other, PlatformClient(platform.url, TOKEN, requests.Session()), policy=fast_policy).drain()
    finally:
        other.close()
    recs = make_cases(w, 3, seed=26)
    assert recs[0].case_no == clash.case_no
    report = OutboxDrainer(w, client_for(w), policy=fast_policy).drain()
    assert (report.sent, report.quarantined, report.stop) == (2, 1, None)
    assert outbox_counts(w) == {"acked": 2, "quarantined": 1}
    q = w.cases.get(recs[0].id)
    assert q.outbox["status"] == "quarantined" and "更正" in q.outbox["last_error"]
    assert q.state == CaseState.QUEUED
    with w.sessions() as s:
        assert s.execute(select(AuditEntry).where(AuditEntry.action == "quarantine")).scalars().first() is not None
    # After the platform side is sorted out, IT puts it back; it is refused again with the same message.
    assert requeue(w, recs[0].case_no, "it01") == f"{recs[0].case_no}/v1"
    assert OutboxDrainer(w, client_for(w), policy=fast_policy).drain().quarantined == 1


def test_credentials_refused_stops_without_quarantine(sync_window, platform, fast_policy):
    w = sync_window
    make_cases(w, 2, seed=27)
    bad = OutboxDrainer(w, PlatformClient(platform.url, "wrong-token-123", requests.Session()), policy=fast_policy)
    r = bad.drain()
    assert r.stop == "credentials" and "凭据" in r.error
    assert outbox_counts(w) == {"waiting": 2}
    with w.sessions() as s:
        assert {e.attempts for e in s.execute(select(OutboxEntry)).scalars()} == {0}


def test_network_down_keeps_everything_waiting(sync_window, platform, fast_policy):
    w = sync_window
    make_cases(w, 2, seed=28)
    with FaultProxy(("127.0.0.1", platform.port), lambda m, p, n: REFUSE) as proxy:
        r = _drainer(w, proxy.url, fast_policy).drain()
    assert r.stop == "offline" and r.deferred == 1
    assert outbox_counts(w) == {"waiting": 2}
    assert platform.store.list_cases()["total"] == 0


def test_local_attachment_lost_quarantines_that_case_only(sync_window, platform, fast_policy):
    w = sync_window
    recs = make_cases(w, 2, seed=29)
    victim = w.cases.get(recs[0].id).application.photo
    w.files.path_for(victim).unlink()
    r = OutboxDrainer(w, client_for(w), policy=fast_policy).drain()
    assert (r.sent, r.quarantined) == (1, 1)
    assert "附件文件丢失" in w.cases.get(recs[0].id).outbox["last_error"]


def test_submission_digest_matches_the_windows_seal_rule(sync_window):
    """The contract's digest rule and the core's sealing rule must agree (else every case is refused)."""
    from counter_app.sync.outbox import build_submission

    w = sync_window
    for rec in make_cases(w, 3, seed=30):
        sub = build_submission(w, rec.id)
        assert C.content_digest(sub["case"]) == rec.content_digest == sub["case"]["content_digest"]
        assert not set(C.LOCAL_ONLY_KEYS) & set(sub["case"])


def test_bulk_acknowledgement_does_what_the_core_does(window):
    """The drain acknowledges many cases with a few set-based statements; the result must equal,
    row for row, the core's own ``CaseService.mark_acknowledged`` on a case in the same state."""
    from counter_app.store.models import CaseRow, CaseTransition, ItemProgress, ItemStatusEvent
    from counter_app.sync.outbox import mark_acknowledged_bulk

    core_case, bulk_case, bulk_case2 = make_cases(window, 3, seed=31)
    with window.sessions.begin() as s:
        window.cases.mark_acknowledged(s, s.get(CaseRow, core_case.id))
    with window.sessions.begin() as s:
        info = mark_acknowledged_bulk(window, s, [bulk_case.id, bulk_case2.id])
    assert info[bulk_case.id] == (bulk_case.case_no, 1)
    with window.sessions.begin() as s:  # a second acknowledgement changes nothing, as in the core
        mark_acknowledged_bulk(window, s, [bulk_case.id])

    def snapshot(case_id):
        with window.sessions() as s:
            row = s.get(CaseRow, case_id)
            trans = [(t.from_state, t.to_state, t.operator, t.reason) for t in s.execute(
                select(CaseTransition).where(CaseTransition.case_id == case_id).order_by(CaseTransition.id)).scalars()]
            items = [(p.item, p.status, p.note) for p in s.execute(
                select(ItemProgress).where(ItemProgress.case_id == case_id).order_by(ItemProgress.item)).scalars()]
            events = [(e.item, e.from_status, e.to_status, e.source, e.operator, e.note) for e in s.execute(
                select(ItemStatusEvent).where(ItemStatusEvent.case_id == case_id).order_by(ItemStatusEvent.item,
                                                                                         ItemStatusEvent.id)).scalars()]
            return row.state, trans, items, events

    core, bulk = snapshot(core_case.id), snapshot(bulk_case.id)
    assert core[0] == bulk[0] == CaseState.ACKNOWLEDGED.value
    assert core[1] == bulk[1]
    # Items differ between the two applicants; compare what happened to each item.
    assert {i[1] for i in core[2]} == {i[1] for i in bulk[2]} == {ItemStatus.PUSHED.value}
    assert {e[1:] for e in core[3]} == {e[1:] for e in bulk[3]}
    assert [e[0] for e in bulk[3]] == [i[0] for i in bulk[2]]
