"""The stale-queue rule, the status snapshot, crash recovery, the credential, ratings."""
from __future__ import annotations

import datetime as _dt

import pytest
import requests
from sqlalchemy import select

from counter_app.lifecycle import CaseState
from counter_app.store.models import OutboxEntry, Rating
from counter_app.sync import acceptance_allowed, get_token, record_rating, set_token, sync_status
from counter_app.sync.client import PlatformClient
from counter_app.sync.outbox import OutboxDrainer, push_ratings
from counter_app.sync.ratings import RatingError
from counter_app.sync.status import recovered_cases
from tests.sync.helpers import TOKEN, make_cases

NOW = _dt.datetime.now(_dt.timezone.utc)


def _age_outbox(window, case_id: str, age: _dt.timedelta) -> None:
    with window.sessions.begin() as s:
        e = s.execute(select(OutboxEntry).where(OutboxEntry.case_id == case_id)).scalar_one()
        e.created_at = NOW - age


@pytest.mark.parametrize("age, warn, block", [
    (_dt.timedelta(minutes=59), False, False),
    (_dt.timedelta(minutes=61), True, False),
    (_dt.timedelta(days=2, hours=23), True, False),
    (_dt.timedelta(days=3, minutes=1), True, True),
])
def test_stale_queue_rule(window, age, warn, block):
    rec = make_cases(window, 1, seed=41)[0]
    _age_outbox(window, rec.id, age)
    st = sync_status(window, now=NOW)
    assert (st.warn_stale, st.block_new) == (warn, block)
    allowed, reason = acceptance_allowed(window, now=NOW)
    assert allowed is not block
    if block:
        assert rec.case_no in reason and "3天" in reason and "暂停受理" in reason
    elif warn:
        assert rec.case_no in reason and "等待" in reason
    else:
        assert reason == ""


def test_limits_come_from_settings(window):
    rec = make_cases(window, 1, seed=42)[0]
    _age_outbox(window, rec.id, _dt.timedelta(hours=30))
    assert acceptance_allowed(window, now=NOW)[0]
    window.settings.set("stale_block_days", 1)
    window.settings.set("stale_warn_minutes", 2000)
    st = sync_status(window, now=NOW)
    assert st.block_new and not st.warn_stale and "1天" in st.block_reason


def test_quarantined_counts_until_superseded(window):
    recs = make_cases(window, 2, seed=43)
    _age_outbox(window, recs[0].id, _dt.timedelta(days=4))
    with window.sessions.begin() as s:
        for e in s.execute(select(OutboxEntry)).scalars():
            e.status = "quarantined" if e.case_id == recs[0].id else "acked"
    st = sync_status(window, now=NOW)
    assert st.block_new and "隔离区" in st.block_reason and st.quarantined == 1
    # Once a correction has replaced the quarantined version, it no longer holds the window up.
    from counter_app.store.models import CaseRow

    with window.sessions.begin() as s:
        s.get(CaseRow, recs[0].id).state = CaseState.SUPERSEDED.value
    st = sync_status(window, now=NOW)
    assert not st.block_new and st.oldest_case_no is None and st.quarantined == 1


def test_snapshot_counts_and_recovered_cases(window):
    recs = make_cases(window, 3, seed=44)
    st = sync_status(window)
    assert (st.waiting, st.quarantined, st.acked) == (3, 0, 0)
    assert st.online is None and not st.needs_credentials
    # Nothing was confirmed on screen (as after a crash right after the commit).
    assert st.unconfirmed_count == 3 and set(st.unconfirmed) == {r.case_no for r in recs}
    assert {c.case_no for c in recovered_cases(window)} == {r.case_no for r in recs}
    window.cases.confirm_shown(recs[0].id)
    assert sync_status(window).unconfirmed_count == 2
    d = st.to_dict()
    assert d["waiting"] == 3 and isinstance(d["oldest_waiting_age"], float) and "待上报3件" in d["summary"]
    assert st.stale is st.warn_stale and st.blocked is st.block_new


def test_credential_in_keystore_env_overrides(window, monkeypatch):
    assert get_token(window) is None
    set_token(window, "  window-secret-42 ")
    assert get_token(window) == "window-secret-42"
    assert window.keystore.get("platform-token") == b"window-secret-42"
    monkeypatch.setenv("COUNTER_APP_PLATFORM_TOKEN", "from-env-token")
    assert get_token(window) == "from-env-token"
    with pytest.raises(ValueError):
        set_token(window, "two words")


def test_ratings_recorded_then_sent_once(sync_window, platform, fast_policy):
    w = sync_window
    rec = make_cases(w, 1, seed=45)[0]
    rid = record_rating(w, rec.id, "满意")
    with pytest.raises(RatingError):
        record_rating(w, rec.id, "满意")  # one per stage
    with pytest.raises(RatingError):
        record_rating(w, rec.id, "非常不满意", stage="completion")  # a bad rating needs a reason
    client = PlatformClient(platform.url, TOKEN, requests.Session())
    assert push_ratings(w, client) == 0  # the case is not on the platform yet
    OutboxDrainer(w, client, policy=fast_policy).drain()
    assert push_ratings(w, client) == 1
    assert push_ratings(w, client) == 0
    with w.sessions() as s:
        assert s.get(Rating, rid).synced
    assert platform.store.ratings() == [{"business_key": f"{rec.case_no}/v1", "stage": "acceptance",
                                         "level": "满意", "reason": ""}]
    # A lost answer: the rating is sent again under the same key and not counted twice.
    with w.sessions.begin() as s:
        s.get(Rating, rid).synced = False
    assert push_ratings(w, client) == 1
    assert len(platform.store.ratings()) == 1
