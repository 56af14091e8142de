"""The reference platform over real HTTP: deduplication, attachment hashes, auth, worklist,
数据共享 look-ups, ratings, the department clock, the case listing."""
from __future__ import annotations

import copy
import hashlib
import os
import random
import uuid

import pytest
import requests

from counter_app.lifecycle import ITEM_FINAL, ItemStatus
from counter_app.sync import contract as C
from counter_app.sync.client import (
    AttachmentsMissing, CredentialsError, PlatformClient, RejectedError, TransientError,
)
from counter_app.sync.outbox import build_submission
from tests.sync.helpers import TOKEN, make_cases


def _client(platform) -> PlatformClient:
    return PlatformClient(platform.url, TOKEN, requests.Session())


def _upload_all(client: PlatformClient, window, sub: dict) -> None:
    for h in C.attachment_hashes(sub["case"]):
        client.upload_attachment(h, window.files.get(h))


@pytest.fixture
def one_case(window, platform):
    rec = make_cases(window, 1, seed=11)[0]
    sub = build_submission(window, rec.id)
    client = _client(platform)
    _upload_all(client, window, sub)
    return rec, sub, client


def test_same_key_same_payload_gets_the_first_answer_again(one_case, platform):
    rec, sub, client = one_case
    key = rec.outbox["idempotency_key"]
    first, replayed1 = client.submit_case(key, sub)
    again, replayed2 = client.submit_case(key, copy.deepcopy(sub))
    assert (replayed1, replayed2) == (False, True)
    assert again["receipt"] == first["receipt"]
    assert again["received_count"] == 2
    listing = client.list_cases()
    assert listing["total"] == 1
    assert listing["items"][0]["business_key"] == f"{rec.case_no}/v1"
    assert listing["items"][0]["received_count"] == 2


def test_same_key_different_payload_is_422(one_case):
    rec, sub, client = one_case
    key = rec.outbox["idempotency_key"]
    client.submit_case(key, sub)
    other = copy.deepcopy(sub)
    other["case"]["application"]["applicant"]["phone"] = "13800000000"
    other["case"]["content_digest"] = C.content_digest(other["case"])
    with pytest.raises(RejectedError) as exc:
        client.submit_case(key, other)
    assert exc.value.status == 422 and exc.value.code == C.E_KEY_REUSED


def test_resend_with_a_new_key_is_recognised_by_business_key(one_case):
    rec, sub, client = one_case
    first, _ = client.submit_case(rec.outbox["idempotency_key"], sub)
    again, replayed = client.submit_case(str(uuid.uuid4()), sub)
    assert replayed and again["receipt"]["platform_case_id"] == first["receipt"]["platform_case_id"]
    changed = copy.deepcopy(sub)
    changed["case"]["application"]["applicant"]["current_address"] += "附1号"
    changed["case"]["content_digest"] = C.content_digest(changed["case"])
    with pytest.raises(RejectedError) as exc:
        client.submit_case(str(uuid.uuid4()), changed)
    assert exc.value.status == 409 and exc.value.code == C.E_BUSINESS_KEY_CONFLICT
    assert "更正" in exc.value.message


def test_content_changed_after_signing_is_refused(one_case):
    rec, sub, client = one_case
    tampered = copy.deepcopy(sub)
    tampered["case"]["application"]["items"] = [1]  # digest left as sealed
    with pytest.raises(RejectedError) as exc:
        client.submit_case(rec.outbox["idempotency_key"], tampered)
    assert exc.value.code == C.E_DIGEST_MISMATCH and "摘要" in exc.value.message


def test_case_refused_until_its_attachments_are_held(window, platform):
    rec = make_cases(window, 1, seed=12)[0]
    sub = build_submission(window, rec.id)
    client = _client(platform)
    hashes = C.attachment_hashes(sub["case"])
    client.upload_attachment(hashes[0], window.files.get(hashes[0]))
    with pytest.raises(AttachmentsMissing) as exc:
        client.submit_case(rec.outbox["idempotency_key"], sub)
    assert sorted(exc.value.missing) == sorted(hashes[1:])
    assert client.list_cases()["total"] == 0


def test_attachment_upload_resumes_and_hash_is_verified(platform, tmp_path):
    client = _client(platform)
    data = os.urandom(300_000)
    sha = hashlib.sha256(data).hexdigest()
    # First attempt sends only the first chunk (as if the connection died after it).
    resp = requests.put(f"{platform.url}/api/v1/attachments/{sha}", data=data[:100_000],
                        headers={"Authorization": f"Bearer {TOKEN}", "Content-Range": f"bytes 0-99999/{len(data)}"})
    assert resp.json() == {"sha256": sha, "state": "partial", "received": 100_000}
    state = client.attachment_states([sha])[sha]
    assert state["state"] == "partial" and state["received"] == 100_000
    # A stale offset is corrected by the server's answer and the upload continues from 100 000.
    sent = client.upload_attachment(sha, data, offset=0, chunk=64_000)
    assert sent == len(data) - 100_000
    assert client.attachment_states([sha])[sha]["state"] == "complete"
    assert platform.store.blobs_for("410702").read(sha) == data
    # Bytes that do not match their name are discarded, not stored.
    bad = os.urandom(1000)
    with pytest.raises(RejectedError) as exc:
        client.upload_attachment("ab" * 32, bad)
    assert exc.value.code == C.E_ATTACHMENT_HASH
    assert client.attachment_states(["ab" * 32])["ab" * 32]["state"] == "absent"


def test_window_credential_is_required(platform):
    bad = PlatformClient(platform.url, "not-a-window-token", requests.Session())
    with pytest.raises(CredentialsError):
        bad.list_cases()
    r = requests.get(f"{platform.url}/api/v1/cases")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert r.json()["code"] == C.E_UNAUTHORIZED
    assert bad.health()["api"] == "v1"  # the probe needs no credential
    me = _client(platform).whoami()
    assert (me["window"], me["center_code"], me["window_no"], me["role"]) == ("410702-01", "410702", "01", "window")


def test_worklist_serves_approved_online_applications_until_taken(window, platform):
    client = _client(platform)
    wl = client.worklist("410702")
    assert len(wl["entries"]) >= 3
    entry = wl["entries"][0]
    assert entry["application"]["source"] == "online"
    assert entry["application"]["online_application_id"] == entry["platform_id"]
    assert client.worklist("410702")["entries"] == wl["entries"]  # stable for the day
    # Confirming it at the window (a case that carries its id) takes it off the list.
    from counter_app.application import application_from_dict

    def as_online(app):
        online = application_from_dict(entry["application"])
        app.source, app.online_application_id = "online", online.online_application_id

    rec = make_cases(window, 1, seed=13, mutate=as_online)[0]
    sub = build_submission(window, rec.id)
    _upload_all(client, window, sub)
    client.submit_case(rec.outbox["idempotency_key"], sub)
    ids = [e["platform_id"] for e in client.worklist("410702")["entries"]]
    assert entry["platform_id"] not in ids and len(ids) == len(wl["entries"]) - 1
    with pytest.raises(RejectedError):
        client.worklist("41070")


def test_data_sharing_lookups(platform):
    from counter_app.samples import make_id_number
    import datetime as _dt

    client = _client(platform)
    rng = random.Random(5)
    henan = make_id_number(rng, "410702", _dt.date(1998, 3, 4), True)
    outside = make_id_number(rng, "110101", _dt.date(1998, 3, 4), True)
    r1 = client.lookup(henan)["results"]
    assert set(r1) == set(C.DATA_SHARING_CHECKS)
    assert client.lookup(henan)["results"]["property_record"] == r1["property_record"]  # deterministic
    bank = r1["social_security_bank_account"]
    if bank["found"]:
        assert bank["account"].isdigit() and len(bank["account"]) == 19
    r2 = client.lookup(outside, ["henan_hukou_before_enlistment", "hukou_cancelled"])["results"]
    assert r2["henan_hukou_before_enlistment"]["value"] is False
    assert r2["hukou_cancelled"]["verified"] is False and "户口注销证明" in r2["hukou_cancelled"]["note"]
    with pytest.raises(RejectedError) as exc:
        client.lookup("410702199803041230")  # wrong check digit
    assert "公民身份号码" in exc.value.message


def test_the_reference_platforms_files_use_the_forms_words_and_henan_places():
    import datetime as _dt

    from counter_app.samples import make_application
    from counter_app.scheme import EDUCATION_LEVELS, POLITICAL_STATUSES, RetirementType
    from refplatform.synthetic import veteran_file

    now = _dt.datetime(2026, 12, 7, 10, tzinfo=_dt.timezone.utc)
    rng = random.Random(11)
    numbers = [make_application(rng, today=now.date()).applicant.id_number for _ in range(200)]
    files = [veteran_file(n, now) for n in numbers]
    assert files == [veteran_file(n, now) for n in numbers]               # deterministic per person
    found = [f for f in files if f["found"]]
    assert 0.85 <= len(found) / len(files) < 1                            # most files have arrived, not all
    for f in found:
        assert f["political_status"] in POLITICAL_STATUSES and f["education"] in EDUCATION_LEVELS
        assert f["enlisted_on"] < f["discharge_date"][:7] and f["discharge_date"] <= "2026-12-07"
        assert f["placement_place"].startswith("河南省") and f["pre_enlistment_address"].startswith(f["placement_place"])
        RetirementType(f["retirement_type"])


def test_the_veteran_file_over_http(platform):
    """The window asks for the file alone (step 2, the retirement type) or with the other checks
    (step 3); the answer passes the client's checks of the contract; the file is the receiving
    center's alone."""
    from counter_app.samples import make_id_number
    from refplatform.synthetic import veteran_file
    import datetime as _dt

    client = _client(platform)
    number = make_id_number(random.Random(8), "410702", _dt.date(1999, 5, 6), True)
    alone = client.lookup(number, ["veteran_file"])["results"]
    assert set(alone) == {"veteran_file"}
    assert client.lookup(number)["results"]["veteran_file"] == alone["veteran_file"]
    with pytest.raises(RejectedError):
        client.lookup(number, ["veteran_file", "army_record"])        # not a check of the contract
    # another county's veteran: that center received the file, this window (410702) is not told what it says
    rng = random.Random(9)
    elsewhere = next(n for n in (make_id_number(rng, "410703", _dt.date(1999, 5, 6), True) for _ in range(50))
                     if veteran_file(n, _dt.datetime.now(_dt.timezone.utc))["found"])
    answer = client.lookup(elsewhere, ["veteran_file"])["results"]["veteran_file"]
    assert answer["found"] is False and "其他县（区）" in answer["note"]
    assert not {"education", "discharge_date", "pre_enlistment_address"} & set(answer)


def test_ratings_are_idempotent_and_validated(one_case):
    rec, sub, client = one_case
    client.submit_case(rec.outbox["idempotency_key"], sub)
    bk = sub["business_key"]
    key = str(uuid.uuid4())
    a = client.submit_rating(key, business_key=bk, stage="acceptance", level="非常满意")
    b = client.submit_rating(key, business_key=bk, stage="acceptance", level="非常满意")
    assert a["rating_id"] == b["rating_id"] and b["replayed"] is True
    with pytest.raises(RejectedError):
        client.submit_rating(str(uuid.uuid4()), business_key=bk, stage="acceptance", level="差")
    with pytest.raises(RejectedError) as exc:
        client.submit_rating(str(uuid.uuid4()), business_key=bk, stage="completion", level="不满意")
    assert "原因" in exc.value.message
    with pytest.raises(TransientError) as exc2:  # the platform does not have that case (yet)
        client.submit_rating(str(uuid.uuid4()), business_key="410702-01-20260101-0001-0/v1", stage="acceptance",
                             level="满意")
    assert exc2.value.status == 404


def test_department_clock_moves_items_to_their_ends(one_case, platform):
    rec, sub, client = one_case
    client.submit_case(rec.outbox["idempotency_key"], sub)
    bk = sub["business_key"]
    start = client.progress([bk])["cases"][0]["items"]
    assert {i["status"] for i in start} == {ItemStatus.PUSHED.value}
    platform.clock.advance(3600 * 40)
    end = client.progress([bk])["cases"][0]["items"]
    assert all(ItemStatus(i["status"]) in ITEM_FINAL for i in end)
    for it in end:
        statuses = [h["status"] for h in it["history"]]
        assert statuses[:2] == ["pushed", ItemStatus(statuses[1]).value]
        times = [h["at"] for h in it["history"]]
        assert times == sorted(times)
        if it["status"] in ("not_accepted", "disapproved"):
            assert it["note"], "a refusal carries the department's reason"
    unknown = client.progress(["410702-01-20260101-0001-0/v1"])
    assert unknown["unknown"] == ["410702-01-20260101-0001-0/v1"]


def test_department_outcomes_include_refusals_with_reasons():
    import datetime as _dt

    from refplatform.departments import plan_items

    t0 = _dt.datetime(2026, 3, 2, tzinfo=_dt.timezone.utc)
    ends: dict[str, int] = {}
    for i in range(300):
        plan = plan_items(f"410702-01-20260302-{i:04d}-0/v1", list(range(1, 12)), t0, 10)
        last = {}
        for st in plan:
            assert st.at >= t0
            last[st.item] = st
        for st in last.values():
            ends[st.status.value] = ends.get(st.status.value, 0) + 1
            if st.status in (ItemStatus.NOT_ACCEPTED, ItemStatus.DISAPPROVED):
                assert st.note
        # Items after 户口登记 never finish before it.
        if last[4].status == ItemStatus.COMPLETED:
            for n in (5, 6, 9, 10):
                if last[n].status == ItemStatus.COMPLETED:
                    assert last[n].at >= last[4].at
    assert ends["completed"] > ends["not_accepted"] > 0
    assert ends["disapproved"] > 0 and ends["collected"] > 0


def test_seals_are_checked_against_the_enrolled_key_only(window, platform, tmp_path):
    """No trust on first use: a seal verifies only against the key IT enrolled for the window's
    credential. Before enrolment it is recorded as unverified; a seal made with any other key
    under that credential is recorded as failed; the case is received in both cases."""
    from tests.sync.conftest import enrol_seal_key

    rec, rec2 = make_cases(window, 2, seed=14)
    assert rec.seal and rec.seal.get("public_key")
    client = _client(platform)
    sub = build_submission(window, rec.id)
    _upload_all(client, window, sub)
    answer, _ = client.submit_case(rec.outbox["idempotency_key"], sub)
    assert answer["receipt"]["seal_verified"] is None  # first seen is not trusted
    assert "尚未登记" in platform.store.get_case(answer["receipt"]["platform_case_id"])["seal_note"]

    enrol_seal_key(platform, window)
    sub2 = build_submission(window, rec2.id)
    _upload_all(client, window, sub2)
    answer2, _ = client.submit_case(rec2.outbox["idempotency_key"], sub2)
    assert answer2["receipt"]["seal_verified"] is True

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from counter_app.security.seal import Sealer

    rec3 = make_cases(window, 1, seed=16)[0]
    forged = build_submission(window, rec3.id)
    case = forged["case"]
    case["seal"] = Sealer(Ed25519PrivateKey.generate()).seal(case["content_digest"], C.attachment_hashes(case))
    _upload_all(client, window, forged)
    answer3, _ = client.submit_case(rec3.outbox["idempotency_key"], forged)
    assert answer3["receipt"]["seal_verified"] is False
    held = platform.store.get_case(answer3["receipt"]["platform_case_id"])
    assert "不是本窗口登记的公钥" in held["seal_note"]


def test_upload_whose_bytes_all_arrived_but_never_completed_is_completed(platform):
    """The platform stopped between writing the last byte and checking the hash: the window sees
    "partial" with every byte received and completes it without sending the bytes again."""
    client = _client(platform)
    data = os.urandom(40_000)
    sha = hashlib.sha256(data).hexdigest()
    part = platform.store.blobs_for("410702").part(sha)
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(data)  # what the killed platform left behind
    state = client.attachment_states([sha])[sha]
    assert state == {"sha256": sha, "state": "partial", "received": len(data)}
    assert client.upload_attachment(sha, data, offset=state["received"]) == 0  # nothing re-sent
    assert client.attachment_states([sha])[sha]["state"] == "complete"
    # A leftover longer than the file (another attempt's garbage) is discarded and the upload restarts.
    data2 = os.urandom(1000)
    sha2 = hashlib.sha256(data2).hexdigest()
    platform.store.blobs_for("410702").part(sha2).parent.mkdir(parents=True, exist_ok=True)
    platform.store.blobs_for("410702").part(sha2).write_bytes(os.urandom(5000))
    assert client.upload_attachment(sha2, data2, offset=5000) == len(data2)
    assert platform.store.blobs_for("410702").read(sha2) == data2
