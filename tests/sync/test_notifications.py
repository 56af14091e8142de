"""The platform's messages to the applicant, point by point: "公安部门完成户口登记后，将结果推送回省一体化政务服务平台，
平台发送短信通知申请人"; "(社保卡)办理结束后…平台发送短信告知申请人"; "通过省一体化政务服务平台发送短信通知申请人审核结果".
The contract carries them (progress answer ``notifications``) and the window keeps and shows what was sent."""
from __future__ import annotations

import sqlite3

import pytest
from counter_app.sync import responses as R
import requests

from counter_app.sync.client import PlatformClient
from counter_app.sync.errors import MalformedAnswer
from counter_app.sync.notifications import sent_messages, store_notifications
from counter_app.sync.outbox import OutboxDrainer
from counter_app.sync.progress import pull_progress
from tests.sync.helpers import TOKEN, make_cases


def _client(url: str) -> PlatformClient:
    return PlatformClient(url, TOKEN, requests.Session(), timeout=(2.0, 5.0))


def test_the_window_keeps_and_shows_the_sms_the_platform_sent(sync_window, platform, fast_policy):
    w = sync_window
    rec = next(r for r in make_cases(w, 4, seed=71) if 4 in r.application.items)
    assert OutboxDrainer(w, _client(platform.url), policy=fast_policy).drain().acked == 4
    platform.clock.advance(3600 * 40)   # the departments finish
    pull_progress(w, _client(platform.url))
    sent = sent_messages(w, rec.id)
    assert sent and all(m.channel == "sms" for m in sent)
    kinds = {m.kind for m in sent}
    statuses = {p["item"]: p["status"] for p in w.cases.get(rec.id).progress}
    if statuses[4] == "completed":     # the 户口登记 result, with what to do next
        hukou = next(m for m in sent if m.kind == "hukou_result")
        assert "打印本人户口页" in hukou.text and rec.case_no in hukou.text
    assert kinds <= {"result", "hukou_result", "card_result"}
    pull_progress(w, _client(platform.url))  # an overlapping pull stores nothing twice
    assert len(sent_messages(w, rec.id)) == len(sent)
    with w.sessions() as s:
        db = s.get_bind().url.database
    raw = b"".join(r[0] for r in sqlite3.connect(db).execute("select text_enc from notifications"))
    assert "打印本人户口页".encode() not in raw and "办结".encode() not in raw   # encrypted at rest


NOTE = {"at": "2026-12-01T10:00:00+08:00", "channel": "sms", "item": 4, "kind": "hukou_result", "text": "户口登记已办结"}


@pytest.mark.parametrize("change,field", [
    ({"channel": "wechat"}, "channel"), ({"kind": "advert"}, "kind"), ({"item": 12}, "item"),
    ({"text": ""}, "text"), ({"at": "yesterday"}, "at"),
])
def test_a_malformed_notification_refuses_the_whole_answer(change, field):
    body = {"cases": [{"business_key": "BK", "items": [], "notifications": [dict(NOTE, **change)]}], "unknown": []}
    with pytest.raises(MalformedAnswer) as exc:
        R.parse_progress(body)
    assert f"notifications[0].{field}" in exc.value.message


def test_store_notifications_is_idempotent(sync_window):
    from tests.core.helpers import finalized_case

    rec = finalized_case(sync_window)
    assert store_notifications(sync_window, rec.id, [NOTE, NOTE]) == 1
    assert store_notifications(sync_window, rec.id, [NOTE]) == 0
    (m,) = sent_messages(sync_window, rec.id)
    assert (m.kind, m.item, m.text) == ("hukou_result", 4, "户口登记已办结")


def test_the_platform_holds_the_police_items_without_the_stamped_letter(sync_window, platform, fast_policy):
    """"开具《落户介绍信》，并及时扫描上传…推送至公安部门": a case whose letter scan is missing (an older window,
    a hand-made bundle) is received, but items 4 and 5 stay 待推送 with the reason."""
    import uuid

    from counter_app.sync import contract as C
    from counter_app.sync.outbox import build_submission
    from refplatform.departments import LETTER_MISSING

    w = sync_window
    rec = next(r for r in make_cases(w, 4, seed=72) if {4, 5} <= set(r.application.items))
    body = build_submission(w, rec.id)
    case = body["case"]
    case["attachments"] = [a for a in case["attachments"] if a["role"] != "settlement_letter"]
    case["content_digest"] = C.content_digest(case)
    caller = platform.store.authenticate(TOKEN)
    for a in case["attachments"]:
        data = w.files.get(a["sha256"])
        platform.store.put_attachment(case["center_code"], a["sha256"], 0, data, len(data))
    platform.store.receive_case(str(uuid.uuid4()), body, caller=caller)
    platform.clock.advance(3600 * 40)
    items = {it["item"]: it for it in platform.store.progress([body["business_key"]])["cases"][0]["items"]}
    assert items[4]["status"] == items[5]["status"] == "pending_push"
    assert items[4]["note"] == LETTER_MISSING
    assert items[1]["status"] != "pending_push"
