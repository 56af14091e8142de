"""After acceptance, against the real reference platform over loopback HTTP, point by point:

- 规程 五(四)1 "开具《落户介绍信》，并及时扫描上传至省一体化政务服务平台，推送至公安部门": the letter is stamped after
  it is printed; scanned back after the case was submitted, it releases the police items (4, 5) the
  platform held 待推送.
- 规程 五(六) "受理及联办事项办结后…提供‘好差评’服务": an applicant who does not come back to the window is
  invited by the platform's own channel, and the rating it collects comes back to the window.
"""
from __future__ import annotations

import pytest
import requests

from counter_app.sync.client import PlatformClient
from counter_app.sync.errors import MalformedAnswer
from counter_app.sync.followups import (
    FollowUpError, followup_key, invitation_state, letter_state, push_followups, queue_settlement_letter, ratings_of,
    request_rating_invitation,
)
from counter_app.sync.notifications import sent_messages
from counter_app.sync.outbox import OutboxDrainer
from counter_app.sync.progress import pull_progress
from counter_app.sync.ratings import rating_offer, record_rating
from counter_app.sync.worker import SyncWorker
from tests.sync.helpers import CLERK, TOKEN, make_cases

STAMPED = "%PDF-1.7\n% the 落户介绍信 with the county office's stamp, scanned\n".encode() + bytes(range(256)) * 8


def _client(url: str) -> PlatformClient:
    return PlatformClient(url, TOKEN, requests.Session(), timeout=(2.0, 5.0))


def _without_letter(app):
    app.settlement_letter_scan = None


def _platform_items(platform, bk: str) -> dict[int, dict]:
    return {it["item"]: it for it in platform.store.progress([bk])["cases"][0]["items"]}


def _window_items(w, case_id: str) -> dict[int, str]:
    return {p["item"]: p["status"] for p in w.cases.get(case_id).progress}


def test_acknowledging_holds_the_police_items_of_a_case_without_the_letter(sync_window):
    """The core's acknowledgement and the drainer's set-based one agree: without the stamped letter,
    items 4 and 5 stay 待推送 while the others are pushed; with it sealed, everything is pushed."""
    from counter_app.store.models import CaseRow
    from counter_app.sync.outbox import mark_acknowledged_bulk

    w = sync_window
    recs = make_cases(w, 8, seed=72, mutate=_without_letter)
    police = [r for r in recs if {4, 5} <= set(r.application.items)]
    assert len(police) >= 2
    with w.sessions.begin() as s:
        w.cases.mark_acknowledged(s, s.get(CaseRow, police[0].id))
        mark_acknowledged_bulk(w, s, [police[1].id])
    for rec in police[:2]:
        local = _window_items(w, rec.id)
        assert local[4] == local[5] == "pending_push"
        assert all(st == "pushed" for n, st in local.items() if n not in (4, 5))
    sealed = next(r for r in make_cases(w, 4, seed=73) if 4 in r.application.items)
    with w.sessions.begin() as s:
        mark_acknowledged_bulk(w, s, [sealed.id])
    assert set(_window_items(w, sealed.id).values()) == {"pushed"}


def _police_case(w, platform, fast_policy):
    rec = next(r for r in make_cases(w, 6, seed=72, mutate=_without_letter) if {4, 5} <= set(r.application.items))
    OutboxDrainer(w, _client(platform.url), policy=fast_policy).drain()
    bk = f"{rec.case_no}/v{rec.version}"
    return rec, bk


def test_the_stamped_letter_scanned_back_releases_the_police_items(sync_window, platform, fast_policy):
    w = sync_window
    rec, bk = _police_case(w, platform, fast_policy)
    platform.clock.advance(3600 * 40)
    held = _platform_items(platform, bk)
    assert held[4]["status"] == held[5]["status"] == "pending_push"       # held without the letter
    assert letter_state(w, rec.id).text.startswith("未回传")
    # the window says the same: acknowledged, the other items pushed, the police items still 待推送
    local = _window_items(w, rec.id)
    assert local[4] == local[5] == "pending_push"
    assert all(st != "pending_push" for n, st in local.items() if n not in (4, 5))

    sha = queue_settlement_letter(w, rec.id, STAMPED, "application/pdf", CLERK)
    # the sync worker's own round sends it (the same path as the app), before it pulls progress
    SyncWorker(w, policy=fast_policy).run_once()
    state = letter_state(w, rec.id)
    assert state.sent_at is not None and "事项4、事项5已推送公安部门" in state.answer
    assert platform.store.blobs_for(w.settings.center_code).read(sha) == STAMPED   # the file itself arrived
    items = _platform_items(platform, bk)
    assert items[4]["status"] != "pending_push" and items[5]["status"] != "pending_push"
    assert any(ev["status"] == "pushed" and "落户介绍信已回传" in (ev["note"] or "") for ev in items[4]["history"])
    local = _window_items(w, rec.id)
    assert local[4] != "pending_push" and local[5] != "pending_push"    # released here too
    platform.clock.advance(3600 * 40)                                      # the police now work on it
    assert _platform_items(platform, bk)[4]["status"] not in ("pending_push", "pushed")

    # a resend under the same key is the first answer again, never a second letter
    again = _client(platform.url).submit_settlement_letter(
        followup_key(bk, 1, "settlement_letter"), business_key=bk, sha256=sha,
        mime="application/pdf", scanned_at=state.scanned_at.isoformat())
    assert again["replayed"] is True and again["pushed_items"] == [4, 5]
    assert push_followups(w, _client(platform.url)) == 0                   # nothing left to send


def test_a_letter_not_uploaded_is_refused_and_one_case_takes_one_letter(sync_window, platform, fast_policy):
    import uuid

    from counter_app.sync.errors import SyncError

    w = sync_window
    rec, bk = _police_case(w, platform, fast_policy)
    c = _client(platform.url)
    with pytest.raises(SyncError) as refused:
        c.submit_settlement_letter(str(uuid.uuid4()), business_key=bk, sha256="e" * 64,
                                   mime="application/pdf", scanned_at="2026-12-07T10:00:00+08:00")
    assert "尚未上传完整" in refused.value.message
    queue_settlement_letter(w, rec.id, STAMPED, "application/pdf", CLERK)
    assert push_followups(w, c) == 1
    with pytest.raises(SyncError) as twice:
        c.submit_settlement_letter(str(uuid.uuid4()), business_key=bk, sha256=letter_state(w, rec.id).sha256,
                                   mime="application/pdf", scanned_at="2026-12-07T10:00:00+08:00")
    assert "已回传过" in twice.value.message


def test_a_case_with_the_letter_sealed_needs_none_afterwards(sync_window, platform, fast_policy):
    w = sync_window
    rec = next(r for r in make_cases(w, 4, seed=73) if 4 in r.application.items)
    assert letter_state(w, rec.id).text == "已随办件上报"
    with pytest.raises(FollowUpError, match="已随办件上报"):
        queue_settlement_letter(w, rec.id, STAMPED, "application/pdf", CLERK)


def _completed_case(w, platform, fast_policy):
    from counter_app.lifecycle import CaseState

    recs = make_cases(w, 3, seed=74)
    c = _client(platform.url)
    OutboxDrainer(w, c, policy=fast_policy).drain()
    platform.clock.advance(3600 * 400)                                     # every department is done
    pull_progress(w, c)
    done = [r for r in recs if w.cases.get(r.id).state is CaseState.COMPLETED]
    assert done, "no case completed"
    return done[0], f"{done[0].case_no}/v{done[0].version}"


def test_the_completion_rating_through_the_platforms_channel(sync_window, platform, fast_policy):
    from refplatform.followups import rate_through_channel

    w = sync_window
    rec, bk = _completed_case(w, platform, fast_policy)
    record_rating(w, rec.id, "满意")                                       # the acceptance rating, at the window
    assert rating_offer(w, rec.id) == "completion"
    # the applicant does not come back: the window asks the platform to invite them
    request_rating_invitation(w, rec.id, CLERK)
    with pytest.raises(FollowUpError, match="已请省平台发送过"):
        request_rating_invitation(w, rec.id, CLERK)
    c = _client(platform.url)
    assert push_followups(w, c) == 1
    assert invitation_state(w, rec.id).sent_at is not None
    pull_progress(w, c)                                                    # a completed case, still asked about
    invite = [m for m in sent_messages(w, rec.id) if m.kind == "rating_invite"]
    assert len(invite) == 1 and rec.case_no in invite[0].text and "好差评" in invite[0].text

    rate_through_channel(platform.store, bk, "非常满意", channel="sms")      # the applicant answers the SMS
    pull_progress(w, c)
    assert [(r.stage, r.level, r.channel) for r in ratings_of(w, rec.id)] == [
        ("acceptance", "满意", "window"), ("completion", "非常满意", "sms")]
    assert ratings_of(w, rec.id)[1].text == "办结评价：非常满意（省平台短信评价）"
    assert rating_offer(w, rec.id) is None                                 # rated once, by the channel
    pull_progress(w, c)
    assert len(ratings_of(w, rec.id)) == 2                                 # pulled again, stored once
    with pytest.raises(ValueError):
        rate_through_channel(platform.store, bk, "满意")                    # one rating per stage


def test_no_invitation_before_completion_nor_after_the_applicant_rated(sync_window, platform, fast_policy):
    import uuid

    from counter_app.sync.errors import SyncError
    from refplatform.followups import rate_through_channel

    w = sync_window
    rec, bk = _completed_case(w, platform, fast_policy)
    c = _client(platform.url)
    open_rec = make_cases(w, 1, seed=75)[0]                                # accepted just now
    OutboxDrainer(w, c, policy=fast_policy).drain()
    with pytest.raises(FollowUpError, match="全部办结后"):
        request_rating_invitation(w, open_rec.id, CLERK)
    with pytest.raises(SyncError, match="尚未全部办结"):                     # the platform checks it too
        c.request_rating_invitation(str(uuid.uuid4()), business_key=f"{open_rec.case_no}/v1")
    record_rating(w, rec.id, "满意", stage="completion")                     # the applicant came back
    with pytest.raises(FollowUpError, match="已对办结服务评价"):
        request_rating_invitation(w, rec.id, CLERK)
    from counter_app.sync.outbox import push_ratings

    push_ratings(w, c)
    with pytest.raises(ValueError):
        rate_through_channel(platform.store, bk, "非常满意")                 # rated at the window first


def test_a_channel_rating_of_an_unknown_channel_is_refused_whole():
    from counter_app.sync import responses as R

    bad = {"cases": [{"business_key": "410702-01-20261207-0001-3/v1", "platform_case_id": "HN1", "items": [],
                      "ratings": [{"stage": "completion", "level": "满意", "channel": "wechat",
                                   "rated_at": "2026-12-07T10:00:00+08:00"}]}], "unknown": []}
    with pytest.raises(MalformedAnswer):
        R.parse_progress(bad)


def test_the_platform_operator_records_a_channel_rating_from_the_command_line(sync_window, platform, fast_policy,
                                                                           capsys):
    from app.cli import main

    w = sync_window
    rec, bk = _completed_case(w, platform, fast_policy)
    data = str(platform.store.data_dir)
    from counter_app.sync.followups import awaiting_channel_rating

    assert rec.id in {cid for cid, _ in awaiting_channel_rating(w)}    # completed, not rated: still asked about
    assert main(["platform", "rate", bk, "不满意", "--data", data]) == 2          # a bad rating needs its reason
    assert "须说明原因" in capsys.readouterr().err
    assert main(["platform", "rate", bk, "不满意", "--reason", "等候时间长", "--data", data]) == 0
    assert "已记录申请人通过短信的评价" in capsys.readouterr().out
    pull_progress(w, _client(platform.url))
    assert [(r.stage, r.level, r.channel) for r in ratings_of(w, rec.id)] == [("completion", "不满意", "sms")]
    assert rec.id not in {cid for cid, _ in awaiting_channel_rating(w)}
    assert main(["platform", "rate", bk, "满意", "--data", data]) == 2
    assert "已经评价过" in capsys.readouterr().err


def test_a_refused_letter_is_kept_with_the_reason_and_not_resent(sync_window, platform, fast_policy):
    """The platform already holds a letter for the case (brought by an offline bundle, say): its
    refusal is final, shown to the clerk, and not sent again every round."""
    import hashlib
    import uuid

    from refplatform.followups import receive_settlement_letter

    w = sync_window
    rec, bk = _police_case(w, platform, fast_policy)
    other = "%PDF-1.7 the same letter, brought another way".encode()
    sha_other = hashlib.sha256(other).hexdigest()
    platform.store.put_attachment(w.settings.center_code, sha_other, 0, other, len(other))
    caller = platform.store.authenticate(TOKEN)
    receive_settlement_letter(platform.store, caller, str(uuid.uuid4()),
                              {"business_key": bk, "sha256": sha_other, "mime": "application/pdf",
                               "scanned_at": "2026-12-07T10:00:00+08:00"})
    queue_settlement_letter(w, rec.id, STAMPED, "application/pdf", CLERK)
    assert push_followups(w, _client(platform.url)) == 0
    state = letter_state(w, rec.id)
    assert state.sent_at is not None and state.text.startswith("省平台拒收：") and "已回传过" in state.text
    from sqlalchemy import select

    from counter_app.store.models import FollowUp

    with w.sessions() as s:                                                # nothing left queued: not resent
        assert s.execute(select(FollowUp.id).where(FollowUp.sent_at.is_(None))).first() is None
