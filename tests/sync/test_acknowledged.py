"""The platform's acknowledged state (case count, key digest, audit head) is compared with the
store by the sync worker at start and after every drain, over real HTTP with the reference
platform on loopback. A store that lost its newest commits (the WAL tail) is caught at the next
sync: audited once, shown in the status with what to do, the missing case named (masked)."""
from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from counter_app.services import open_window
from counter_app.store.models import AuditEntry
from counter_app.sync import contract as C
from counter_app.sync.client import client_for
from counter_app.sync.worker import SyncWorker
from refplatform.tables import PlatformCase
from tests.sync.helpers import SUPERVISOR_TOKEN, make_cases


def _audit_actions(window, action: str) -> list[AuditEntry]:
    with window.sessions() as s:
        return s.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars().all()


def _lose_wal_tail(window, *, lost: int, seed: int):
    """Sync, keep the files, sync ``lost`` more cases, put the old files back (the newest WAL
    frames gone, the audit-head file with them): the platform holds cases the store lacks."""
    make_cases(window, 2, seed=seed)
    first = SyncWorker(window).run_once()
    assert first.acknowledged is not None and first.acknowledged.ok, first.acknowledged
    home = window.home
    window.close()
    saved = {n: (home / n).read_bytes() for n in ("counter.sqlite3", "counter.sqlite3-wal") if (home / n).exists()}
    w2 = open_window(home)
    gone = make_cases(w2, lost, seed=seed + 1)
    assert SyncWorker(w2).run_once().drain.acked == lost
    w2.close()
    for n in ("counter.sqlite3-wal", "counter.sqlite3-shm", "audit-head.json"):
        (home / n).unlink(missing_ok=True)
    for n, data in saved.items():
        (home / n).write_bytes(data)
    return gone


@pytest.mark.parametrize("lost", [1, 3])
def test_cases_lost_from_the_wal_tail_are_caught_at_the_next_sync(sync_window, platform, lost):
    gone = _lose_wal_tail(sync_window, lost=lost, seed=10 + lost)
    w = open_window(sync_window.home)
    try:
        result = SyncWorker(w).run_once()
        check = result.acknowledged
        assert check is not None and not check.ok
        assert check.platform_cases == 2 + lost and check.local_acked == 2
        assert sorted(check.missing_locally) == sorted(f"{c.case_no}/v1" for c in gone)
        assert check.head_problem.startswith("本机审计记录只到第")
        # Named for people with the applicant masked, never in full.
        listing = platform.store.list_cases(None)["items"]
        for c in gone:
            pid = next(i["platform_case_id"] for i in listing if i["business_key"] == f"{c.case_no}/v1")
            applicant = platform.store.get_case(pid)["case"]["application"]["applicant"]
            named = next(n for n in check.missing_named if n.startswith(c.case_no))
            assert applicant["id_number"] not in named and applicant["name"] not in named
            assert applicant["id_number"][-4:] in named and "*" in named
        # Shown in the status with what to do, audited once however often it is seen again.
        assert "与省平台核对不一致" in result.status.summary
        assert gone[0].case_no in result.status.mismatch and "db restore" in result.status.mismatch
        assert len(_audit_actions(w, "sync_mismatch")) == 1
        detail = _audit_actions(w, "sync_mismatch")[0].detail
        assert sorted(detail["missing_locally"]) == sorted(check.missing_locally) and detail["head_differs"]
        # The installation self-test says it too, and fails.
        from app.diagnostics import FAIL, run_selftest

        agreement = next(c for c in run_selftest(w.home, qt=False) if c.name == "与省平台核对")
        assert agreement.status == FAIL and gone[0].case_no in agreement.detail
        again = SyncWorker(w).run_once()
        assert not again.acknowledged.ok and gone[0].case_no in again.status.mismatch
        assert len(_audit_actions(w, "sync_mismatch")) == 1
    finally:
        w.close()


def test_a_consistent_store_is_checked_at_start_and_after_every_drain(sync_window, platform):
    w = sync_window
    worker = SyncWorker(w)
    start = worker.run_once()  # nothing sent yet: the platform holds nothing, the check still runs
    assert start.acknowledged is not None and start.acknowledged.ok and start.acknowledged.platform_cases == 0
    make_cases(w, 3, seed=21)
    after = worker.run_once()
    assert after.drain.acked == 3
    assert after.acknowledged.ok and after.acknowledged.platform_cases == 3 == after.acknowledged.local_acked
    assert after.acknowledged.platform_head_seq is not None
    assert after.status.mismatch == "" and not _audit_actions(w, "sync_mismatch")


def test_a_mismatch_clears_only_when_a_comparison_agrees_and_that_is_audited(sync_window, platform):
    w = sync_window
    make_cases(w, 1, seed=31)
    SyncWorker(w).run_once()
    # The platform's copy of the window's audit head differs from the chain (a replaced store).
    with platform.store.writing() as s:
        row = s.execute(select(PlatformCase)).scalars().first()
        real = row.audit_head_hash
        row.audit_head_hash = "0" * 64
    worker = SyncWorker(w)
    bad = worker.run_once()
    assert not bad.acknowledged.ok and "不一致" in bad.acknowledged.head_problem and bad.status.mismatch
    with platform.store.writing() as s:
        s.execute(select(PlatformCase)).scalars().first().audit_head_hash = real
    good = worker.run_once()
    assert good.acknowledged.ok and good.status.mismatch == ""
    assert len(_audit_actions(w, "sync_mismatch")) == 1 and len(_audit_actions(w, "sync_mismatch_cleared")) == 1


def test_the_platform_answers_for_the_callers_window_only(sync_window, platform):
    w = sync_window
    cases = make_cases(w, 2, seed=41)
    SyncWorker(w).run_once()
    ack = client_for(w).acknowledged()
    assert ack["cases"] == 2 and ack["window_no"] == w.settings.window_no
    assert ack["business_keys_sha256"] == C.business_keys_digest(f"{c.case_no}/v1" for c in cases)
    r = requests.get(platform.url + C.API_PREFIX + "/acknowledged",
                               headers={"Authorization": f"Bearer {SUPERVISOR_TOKEN}"}, timeout=5)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_a_case_the_platform_no_longer_holds_is_reported_too(sync_window, platform):
    from refplatform.tables import CaseItem, ItemEvent, ScheduledStep

    w = sync_window
    cases = make_cases(w, 2, seed=51)
    assert SyncWorker(w).run_once().acknowledged.ok
    with platform.store.writing() as s:  # the platform lost one (restored from an older backup of its own)
        row = s.execute(select(PlatformCase).where(PlatformCase.case_no == cases[1].case_no)).scalar_one()
        for table in (CaseItem, ItemEvent, ScheduledStep):
            for dependent in s.execute(select(table).where(table.case_id == row.id)).scalars():
                s.delete(dependent)
        s.flush()
        s.delete(row)
    check = SyncWorker(w).run_once().acknowledged
    assert not check.ok and check.not_on_platform == (f"{cases[1].case_no}/v1",) and not check.missing_locally
    assert "省平台没有" in check.message
