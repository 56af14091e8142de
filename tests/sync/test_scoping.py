"""Credentials are scoped: each attack a second window's credential could make on the first
window's cases, one test each. Window A is the test window (410702, window 01); B is window 02 of
the same center; C is window 01 of another center (410105)."""
from __future__ import annotations

import copy
import random
import uuid

import pytest
import requests

from counter_app.sync import contract as C
from counter_app.sync.client import CredentialsError, PlatformClient, RejectedError, TransientError
from counter_app.sync.outbox import build_submission
from counter_app.samples import make_application
from tests.sync.helpers import TOKEN, make_cases

B_TOKEN, C_TOKEN = "window-b-token-0002", "other-center-token-0001"


@pytest.fixture
def scoped(sync_window, platform):
    platform.store.enrol(_enrolment(f"{B_TOKEN}@410702-02"))
    platform.store.enrol(_enrolment(f"{C_TOKEN}@410105-01"))
    a = PlatformClient(platform.url, TOKEN, requests.Session())
    rec = make_cases(sync_window, 1, seed=31)[0]
    sub = build_submission(sync_window, rec.id)
    for h in C.attachment_hashes(sub["case"]):
        a.upload_attachment(h, sync_window.files.get(h))
    answer, _ = a.submit_case(rec.outbox["idempotency_key"], sub)
    return {"a": a, "b": PlatformClient(platform.url, B_TOKEN, requests.Session()),
            "c": PlatformClient(platform.url, C_TOKEN, requests.Session()), "rec": rec, "sub": sub,
            "pid": answer["receipt"]["platform_case_id"], "window": sync_window}


def _enrolment(spec: str):
    from refplatform.credentials import Enrolment

    return Enrolment.parse(spec)


def _raw(platform, token: str, method: str, path: str, **kw) -> requests.Response:
    return requests.request(method, platform.url + C.API_PREFIX + path,
                            headers={"Authorization": f"Bearer {token}", **kw.pop("headers", {})}, timeout=10, **kw)


def test_listing_shows_only_the_callers_own_cases_without_others_keys(scoped):
    assert scoped["a"].list_cases()["total"] == 1
    assert scoped["a"].list_cases()["items"][0]["idempotency_key"] == scoped["rec"].outbox["idempotency_key"]
    assert scoped["b"].list_cases()["total"] == 0      # same center, other window
    assert scoped["c"].list_cases()["total"] == 0      # other center
    with pytest.raises(CredentialsError) as exc:        # naming another center is refused outright
        scoped["c"].list_cases(center_code="410702")
    assert exc.value.status == 403


def test_another_window_cannot_read_the_applicant_or_the_photo(scoped, platform):
    for who in ("b", "c"):
        with pytest.raises(TransientError) as exc:
            scoped[who].get_case(scoped["pid"])
        assert exc.value.status == 404                   # not found, never "forbidden": no oracle
    photo = next(a["sha256"] for a in scoped["sub"]["case"]["attachments"] if a["role"] == "photo")
    for token in (B_TOKEN, C_TOKEN, TOKEN):               # no window downloads attachments
        r = _raw(platform, token, "GET", f"/attachments/{photo}")
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    states = scoped["c"].attachment_states([photo])      # another center does not even learn it is held
    assert states[photo]["state"] == "absent"


def test_another_centers_worklist_is_forbidden(scoped, platform):
    r = _raw(platform, B_TOKEN, "GET", "/worklist", params={"center_code": "410105"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert scoped["c"].worklist("410105")["center_code"] == "410105"


def test_a_window_cannot_squat_another_windows_case_number(scoped):
    """B submits a case numbered as A's next one: refused, and A's genuine case then goes through."""
    window = scoped["window"]
    genuine = make_cases(window, 1, seed=32)[0]
    sub = build_submission(window, genuine.id)
    squat = copy.deepcopy(sub)
    squat["case"]["application"]["applicant"]["name"] = "冒名"
    squat["case"]["content_digest"] = C.content_digest(squat["case"])
    for h in C.attachment_hashes(sub["case"]):
        scoped["b"].upload_attachment(h, window.files.get(h))
    with pytest.raises(CredentialsError) as exc:
        scoped["b"].submit_case(str(uuid.uuid4()), squat)
    assert exc.value.status == 403 and "只能上报本窗口编号的办件" in exc.value.message
    for h in C.attachment_hashes(sub["case"]):
        scoped["a"].upload_attachment(h, window.files.get(h))
    answer, replayed = scoped["a"].submit_case(genuine.outbox["idempotency_key"], sub)
    assert not replayed and answer["receipt"]["business_key"] == f"{genuine.case_no}/v1"


def _forged_correction(scoped, *, approved_by: str | None, seal_key=None) -> dict:
    """A "v2" of A's case with another bank account, as an attacker would build it."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from counter_app.security.seal import Sealer

    case = copy.deepcopy(scoped["sub"]["case"])
    case["version"], case["supersedes"] = 2, f"{case['case_no']}/v1"
    case.setdefault("application", {}).setdefault("pension", {})["bank_account"] = "6217000000000000001"
    if approved_by:
        case["correction"] = {"approved_by": approved_by, "approved_at": "2026-03-02T10:00:00+08:00"}
    case["content_digest"] = C.content_digest(case)
    case["seal"] = Sealer(seal_key or Ed25519PrivateKey.generate()).seal(case["content_digest"],
                                                                           C.attachment_hashes(case))
    return {"business_key": f"{case['case_no']}/v2", "case": case}


def test_a_correction_from_another_center_is_forbidden(scoped):
    forged = _forged_correction(scoped, approved_by="supervisor01")
    for h in C.attachment_hashes(forged["case"]):
        scoped["c"].upload_attachment(h, scoped["window"].files.get(h))
    with pytest.raises(CredentialsError) as exc:
        scoped["c"].submit_case(str(uuid.uuid4()), forged)
    assert exc.value.status == 403


@pytest.mark.parametrize("approved_by, why", [(None, "须写明审批的审核负责人"), ("nobody", "不是本服务中心"),
                                              ("supervisor01", "电子印章")],
                         ids=["no-approval", "unknown-supervisor", "seal-not-the-enrolled-key"])
def test_a_correction_without_a_named_sealed_supervisor_approval_is_refused(scoped, approved_by, why):
    forged = _forged_correction(scoped, approved_by=approved_by)
    for h in C.attachment_hashes(forged["case"]):
        scoped["b"].upload_attachment(h, scoped["window"].files.get(h))
    with pytest.raises(RejectedError) as exc:
        scoped["b"].submit_case(str(uuid.uuid4()), forged)
    assert exc.value.status == 422 and exc.value.code == C.E_CORRECTION_NOT_APPROVED
    assert why in exc.value.message
    assert scoped["a"].list_cases()["total"] == 1  # nothing new was received


def test_a_self_made_seal_key_is_not_trusted_on_first_use(scoped, platform):
    """B has no enrolled key: its first seal is recorded as unverified, not pinned as its key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from counter_app.security.seal import Sealer

    sealer = Sealer(Ed25519PrivateKey.generate())
    case = copy.deepcopy(scoped["sub"]["case"])
    case["case_no"] = case["case_no"].replace("410702-01-", "410702-02-", 1)
    case["window_no"] = "02"
    case["application"]["applicant"]["id_number"] = make_application(random.Random(77)).applicant.id_number
    case["content_digest"] = C.content_digest(case)
    case["seal"] = sealer.seal(case["content_digest"], C.attachment_hashes(case))
    answer, _ = scoped["b"].submit_case(str(uuid.uuid4()), {"business_key": f"{case['case_no']}/v1", "case": case})
    assert answer["receipt"]["seal_verified"] is None
    assert platform.store.caller_by_label("410702-02").seal_public_key is None
