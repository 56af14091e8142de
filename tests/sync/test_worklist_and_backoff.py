"""The worklist kept encrypted at the window, the 数据共享 look-ups, and the backoff rule."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from counter_app.store.models import WorklistEntry
from counter_app.sync import fetch_worklist, lookup_data_sharing, worklist_entries
from counter_app.sync.backoff import RetryPolicy
from counter_app.sync.client import SyncError, parse_retry_after
from counter_app.sync.worklist import decode_entry, store_worklist


def test_worklist_is_stored_encrypted_and_searchable_by_blind_index(sync_window, platform):
    w = sync_window
    n = fetch_worklist(w)
    assert n >= 3
    entries = worklist_entries(w)
    assert len(entries) == n
    first = entries[0]
    idn = first["application"]["applicant"]["id_number"]
    with w.sessions() as s:
        rows = s.execute(select(WorklistEntry)).scalars().all()
        assert all(idn.encode() not in r.payload_enc for r in rows)
        found = s.execute(select(WorklistEntry).where(WorklistEntry.id_bidx == w.cases.id_index(idn))).scalar_one()
        assert decode_entry(w, found)["platform_id"] == first["platform_id"]
    assert fetch_worklist(w) == n  # refetching updates, does not duplicate
    with w.sessions() as s:
        assert len(s.execute(select(WorklistEntry)).scalars().all()) == n


def test_entries_taken_elsewhere_disappear_but_ours_stay(window):
    sample = [{"platform_id": f"YSB410702202603020{i}", "approved_on": "2026-03-01",
               "application": {"applicant": {"id_number": "", "name": "测试"}}} for i in range(3)]
    from tests.sync.helpers import make_cases

    store_worklist(window, sample)
    rec = make_cases(window, 1, seed=61)[0]
    with window.sessions.begin() as s:
        s.get(WorklistEntry, sample[1]["platform_id"]).taken_case_id = rec.id  # taken at this window
    store_worklist(window, sample[2:])  # the platform no longer lists 0 and 1
    assert [e["platform_id"] for e in worklist_entries(window, include_taken=True)] == [
        sample[1]["platform_id"], sample[2]["platform_id"]]
    assert [e["platform_id"] for e in worklist_entries(window)] == [sample[2]["platform_id"]]


def test_data_sharing_lookup_through_the_window(sync_window, platform, monkeypatch):
    w = sync_window
    from counter_app.samples import make_id_number
    import datetime as _dt

    idn = make_id_number(random.Random(3), "410702", _dt.date(1999, 5, 6), True)
    res = lookup_data_sharing(w, idn)
    assert res["henan_hukou_before_enlistment"]["verified"] is True
    assert set(res["property_record"]) >= {"found", "certificate_no"}
    monkeypatch.setenv("COUNTER_APP_PLATFORM_URL", "http://127.0.0.1:9")
    with pytest.raises(SyncError) as exc:
        lookup_data_sharing(w, idn)
    assert "无法连接省平台" in exc.value.message


def test_full_jitter_backoff_is_bounded_and_honours_retry_after():
    p = RetryPolicy(base=2.0, cap=300.0, rng=random.Random(11))
    assert [p.ceiling(n) for n in (1, 2, 3, 8, 9, 20)] == [2, 4, 8, 256, 300, 300]
    for attempt in (1, 3, 12):
        samples = [p.delay(attempt) for _ in range(400)]
        assert all(0 <= d <= p.ceiling(attempt) for d in samples)
        # full jitter: spread over the whole range, not bunched at the top
        assert min(samples) < 0.1 * p.ceiling(attempt) and max(samples) > 0.9 * p.ceiling(attempt)
    assert all(p.delay(1, retry_after=30) >= 30 for _ in range(50))
    assert p.delay(1, retry_after=10 ** 6) == 3600  # an absurd Retry-After is capped


def test_retry_after_forms():
    import datetime as _dt

    now = _dt.datetime(2026, 3, 2, 8, 0, tzinfo=_dt.timezone.utc)
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Mon, 02 Mar 2026 08:00:30 GMT", now) == 30
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
