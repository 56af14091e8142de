"""Answers that break the contract, checked at the boundary (``counter_app.sync.responses``).

A gateway between the window and the real reference platform (``FaultProxy``) replaces one
answer with a malformed one; everything else is the real platform over real HTTP. The window
must explain in Chinese, write nothing from the bad answer, and carry on once answers are good.
"""
from __future__ import annotations

import copy
import json

import pytest
import requests
from sqlalchemy import func, select

from counter_app.store.models import CaseRow, ItemProgress, ItemStatusEvent, OutboxEntry, WorklistEntry
from counter_app.sync import contract as C
from counter_app.sync import responses as R
from counter_app.sync.client import (
    AttachmentsMissing, MalformedAnswer, PlatformClient, RejectedError, SyncError, TransientError,
)
from counter_app.sync.outbox import OutboxDrainer, build_submission
from counter_app.sync.progress import pull_progress
from counter_app.sync.worklist import fetch_worklist, lookup_data_sharing
from tests.sync.faultproxy import PASS, RESPOND, FaultProxy
from tests.sync.helpers import TOKEN, make_cases, outbox_counts

ID_NUMBER = "410702199001011237"  # valid check digit: the platform looks it up


def _client(url: str) -> PlatformClient:
    return PlatformClient(url, TOKEN, requests.Session(), timeout=(2.0, 5.0))


def _once(method: str, path: str, fault):
    """Faults: ``fault`` for the first exchange on (method, path), everything else passes."""
    return lambda m, p, n: fault if (m, p, n) == (method, C.API_PREFIX + path, 0) else PASS


def _json(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


# ---- the outbox: a bad answer defers the case, it is never quarantined nor lost --------------------
@pytest.mark.parametrize("method,path,status,body,field", [
    ("POST", "/attachments/query", 200, b"null", "应答内容"),
    ("POST", "/attachments/query", 200, b'{"attachments":[{}]}', "attachments[0].sha256"),
    ("POST", "/attachments/query", 200, _json({"attachments": [{"sha256": "ab" * 32, "state": "partial",
                                                                "received": "x"}]}), "attachments[0].received"),
    ("PUT", None, 200, b'{"state":"partial","received":"x"}', "received"),
    ("PUT", None, 200, b'{"sha256":"' + b"ab" * 32 + b'","state":"partial","received":99999999}', "received"),
    ("POST", "/cases", 409, _json({"code": "attachments_missing", "message": "平台尚未收齐附件。",
                                   "detail": {"missing": 5}}), "detail.missing"),
    ("POST", "/cases", 201, _json({"receipt": {"business_key": "X"}}), "回执与所报办件不符"),
])
def test_a_malformed_answer_defers_the_case_and_the_next_round_sends_it(sync_window, platform, fast_policy,
                                                                         method, path, status, body, field):
    w = sync_window
    rec = make_cases(w, 1, seed=41)[0]
    if path is None:  # the first attachment upload, whichever hash it is
        def faults(m, p, n):
            return RESPOND(status, body) if m == "PUT" and proxy.seen("PUT", C.API_PREFIX) == 0 else PASS
    else:
        faults = _once(method, path, RESPOND(status, body))
    with FaultProxy(("127.0.0.1", platform.port), faults) as proxy:
        drainer = OutboxDrainer(w, _client(proxy.url), policy=fast_policy)
        first = drainer.drain(ignore_schedule=True)
        assert (first.stop, first.acked, first.quarantined) == ("busy", 0, 0)
        assert field in first.error and "重试" in first.error
        with w.sessions() as s:
            e = s.execute(select(OutboxEntry)).scalar_one()
            assert (e.status, e.attempts, e.last_error) == ("waiting", 1, first.error)
        assert w.cases.get(rec.id).state.value == "queued"
        second = drainer.drain(ignore_schedule=True)
    assert (second.stop, second.acked) == (None, 1)
    assert outbox_counts(w) == {"acked": 1}
    assert platform.store.list_cases()["total"] == 1


def test_an_upload_offset_correction_that_is_not_a_number_is_refused(window, platform):
    rec = make_cases(window, 1, seed=42)[0]
    h = C.attachment_hashes(build_submission(window, rec.id)["case"])[0]
    bad = RESPOND(409, _json({"code": C.E_UPLOAD_OFFSET, "message": "续传位置不符。", "detail": {"received": "x"}}))
    with FaultProxy(("127.0.0.1", platform.port), _once("PUT", f"/attachments/{h}", bad)) as proxy:
        client = _client(proxy.url)
        with pytest.raises(MalformedAnswer) as exc:
            client.upload_attachment(h, window.files.get(h))
        assert "detail.received" in exc.value.message
        # The platform, asked again, is where it was: nothing was sent on a guessed offset.
        assert client.attachment_states([h])[h]["received"] == 0


def test_attachments_missing_with_a_proper_list_still_asks_for_the_upload(window, platform):
    rec = make_cases(window, 1, seed=43)[0]
    sub = build_submission(window, rec.id)
    with pytest.raises(AttachmentsMissing) as exc:
        _client(platform.url).submit_case(rec.outbox["idempotency_key"], sub)
    assert sorted(exc.value.missing) == C.attachment_hashes(sub["case"])


# ---- the worklist: a refused answer leaves the stored worklist exactly as it was ------------------
def _worklist_rows(w):
    with w.sessions() as s:
        return sorted((r.platform_id, r.payload_enc, r.approved_on, r.fetched_at)
                      for r in s.execute(select(WorklistEntry)).scalars())


def _drop_platform_id(a):
    del a["entries"][1]["platform_id"]


def _application_as_list(a):
    a["entries"][-1]["application"] = [1]


def _duplicate_id(a):
    a["entries"][2]["platform_id"] = a["entries"][0]["platform_id"]


def _id_number_as_date(a):
    a["entries"][3]["approved_on"] = ID_NUMBER


def _name_as_number(a):
    a["entries"][4]["application"]["applicant"]["name"] = 7


@pytest.mark.parametrize("mangle,field", [
    (_drop_platform_id, "entries[1].platform_id"),
    (_application_as_list, "entries[5].application"),
    (_duplicate_id, "entries[2].platform_id"),
    (_id_number_as_date, "entries[3].approved_on"),
    (_name_as_number, "entries[4].application.applicant.name"),
])
def test_a_bad_worklist_answer_is_refused_whole(sync_window, platform, mangle, field):
    w = sync_window
    good = _client(platform.url).worklist(w.settings.center_code)
    assert fetch_worklist(w, _client(platform.url)) == len(good["entries"]) == 6
    before = _worklist_rows(w)
    bad = copy.deepcopy(good)
    mangle(bad)
    with FaultProxy(("127.0.0.1", platform.port), _once("GET", "/worklist", RESPOND(200, _json(bad)))) as proxy:
        with pytest.raises(SyncError) as exc:
            fetch_worklist(w, _client(proxy.url))
    assert field in exc.value.message and "已保留本机数据" in exc.value.message
    assert ID_NUMBER not in exc.value.message  # a field is named, its value never shown
    # Nothing rewritten and, above all, no entry deleted for being "no longer listed".
    assert _worklist_rows(w) == before


# ---- progress: a refused answer applies nothing, not even its good part ---------------------------
def _progress_state(w):
    with w.sessions() as s:
        return (sorted((p.case_id, p.item, p.status) for p in s.execute(select(ItemProgress)).scalars()),
                s.execute(select(func.count()).select_from(ItemStatusEvent)).scalar_one(),
                s.execute(select(CaseRow.state)).scalar_one())


def test_a_bad_progress_answer_changes_nothing_then_a_good_one_applies(sync_window, platform, fast_policy):
    w = sync_window
    rec = make_cases(w, 1, seed=44)[0]
    assert OutboxDrainer(w, _client(platform.url), policy=fast_policy).drain().acked == 1
    platform.clock.advance(3600 * 40)  # the departments finish every item
    with w.sessions() as s:
        bk = s.execute(select(OutboxEntry.business_key).where(OutboxEntry.case_id == rec.id)).scalar_one()
    good = _client(platform.url).progress([bk])
    items = good["cases"][0]["items"]
    assert len(items) >= 2 and all(len(it["history"]) >= 2 for it in items)
    bad = copy.deepcopy(good)
    bad["cases"][0]["items"][-1]["history"][-1]["at"] = 5  # only the very last event is wrong
    before = _progress_state(w)
    with FaultProxy(("127.0.0.1", platform.port), _once("POST", "/progress/query", RESPOND(200, _json(bad)))) as proxy:
        with pytest.raises(TransientError) as exc:
            pull_progress(w, _client(proxy.url))
    assert "history[" in exc.value.message and ".at" in exc.value.message
    assert _progress_state(w) == before  # the good items before the bad event were not applied either
    report = pull_progress(w, _client(platform.url))
    assert report.checked == 1 and report.changed_items >= len(items)
    assert _progress_state(w) != before


@pytest.mark.parametrize("body,field", [
    ({"cases": [{"business_key": "BK", "items": [{"item": [1]}]}], "unknown": []}, "cases[0].items[0].item"),
    ({"cases": [], "unknown": [1]}, "unknown[0]"),
    ({"cases": [{"business_key": ["BK"], "items": []}], "unknown": []}, "cases[0].business_key"),
    ({"cases": [{"business_key": "BK", "items": [{"item": 12, "status": "accepted", "updated_at":
                 "2026-11-30T10:00:00+08:00", "history": []}]}], "unknown": []}, "cases[0].items[0].item"),
])
def test_progress_shapes_are_named_in_the_message(body, field):
    with pytest.raises(MalformedAnswer) as exc:
        R.parse_progress(body)
    assert field in exc.value.message


# ---- the look-up and error bodies ------------------------------------------------------------------
def test_a_malformed_data_sharing_answer_sends_the_clerk_to_the_paper(window, platform):
    bad = _json({"results": {"hukou_cancelled": 5}})
    with FaultProxy(("127.0.0.1", platform.port), _once("POST", "/data-sharing/lookup", RESPOND(200, bad))) as proxy:
        with pytest.raises(SyncError) as exc:
            lookup_data_sharing(window, ID_NUMBER, client=_client(proxy.url))
        assert "results.hukou_cancelled" in exc.value.message and "纸质材料" in exc.value.message
        # The real answer, next time, is taken as it is.
        results = lookup_data_sharing(window, ID_NUMBER, client=_client(proxy.url))
    assert isinstance(results["hukou_cancelled"]["verified"], bool)


def test_a_platform_that_does_not_know_the_veteran_file_still_verifies(window, platform):
    """Contract 1.2 refuses a look-up naming ``veteran_file`` as a whole (422): the window asks
    again without it and the verified answers still arrive; a refusal for another reason stands."""
    refusal = _json({"code": "invalid_request", "message": "请求不符合接口约定：checks[4]"})
    with FaultProxy(("127.0.0.1", platform.port),
                    _once("POST", "/data-sharing/lookup", RESPOND(422, refusal, {"Content-Type": "application/json"}))) as proxy:
        results = lookup_data_sharing(window, ID_NUMBER, client=_client(proxy.url))
    assert "veteran_file" not in results and isinstance(results["hukou_cancelled"]["verified"], bool)
    with pytest.raises(SyncError) as exc:                        # a wrong check digit: refused again
        lookup_data_sharing(window, ID_NUMBER[:-1] + str((int(ID_NUMBER[-1]) + 1) % 10), client=_client(platform.url))
    assert "公民身份号码" in exc.value.message


@pytest.mark.parametrize("message,shown", [
    ("办件数据不完整：缺少申请人签名。", "办件数据不完整：缺少申请人签名。"),
    ("NullPointerException at line 12", "省平台拒收（422）。"),      # not for the clerk: our wording
    (["列表"], "省平台拒收（422）。"),
])
def test_only_a_chinese_platform_message_is_shown_to_the_clerk(window, platform, message, shown):
    rec = make_cases(window, 1, seed=45)[0]
    sub = build_submission(window, rec.id)
    bad = RESPOND(422, _json({"code": C.E_INVALID_CASE, "message": message}))
    with FaultProxy(("127.0.0.1", platform.port), _once("POST", "/cases", bad)) as proxy:
        with pytest.raises(RejectedError) as exc:
            _client(proxy.url).submit_case(rec.outbox["idempotency_key"], sub)
    assert exc.value.message == shown


def test_retry_after_digits_must_be_ascii():
    assert R.parse_retry_after("²") is None  # str.isdigit() says yes, float() says no
    assert R.parse_retry_after(" 30 ") == 30.0


def test_the_reference_platforms_answers_all_pass(window, platform):
    """The checks are not stricter than the contract the reference platform implements."""
    rec = make_cases(window, 1, seed=46)[0]
    sub = build_submission(window, rec.id)
    client = _client(platform.url)
    assert client.health()["api"] == "v1"
    assert client.whoami()["window"]
    assert client.worklist(window.settings.center_code)["entries"]
    hashes = C.attachment_hashes(sub["case"])
    assert set(client.attachment_states(hashes)) == set(hashes)
    for h in hashes:
        assert client.upload_attachment(h, window.files.get(h), chunk=700) == len(window.files.get(h))
    answer, replayed = client.submit_case(rec.outbox["idempotency_key"], sub)
    assert not replayed and answer["receipt"]["business_key"] == sub["business_key"]
    pid = answer["receipt"]["platform_case_id"]
    assert client.get_case(pid)["received_count"] == 1
    assert client.list_cases()["items"][0]["platform_case_id"] == pid
    assert client.progress([sub["business_key"]])["cases"][0]["items"]
    assert set(client.lookup(ID_NUMBER)["results"]) == set(C.DATA_SHARING_CHECKS)
    rating = client.submit_rating("6f1d2c1e-8a4b-4a57-9d0c-4e0b7c4f1a21", business_key=sub["business_key"],
                                  stage="acceptance", level="满意")
    assert rating["replayed"] is False
