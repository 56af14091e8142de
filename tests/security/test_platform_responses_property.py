"""Whatever the platform (or a gateway in front of it) answers, the window reacts with a value or
a SyncError carrying a Chinese message — never another exception — and a refused worklist
answer writes nothing. Real HTTP: a server on loopback replays generated answers to the real
``PlatformClient`` and to the sync code that consumes its answers (``counter_app.sync``)."""
from __future__ import annotations

import json
import random
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from sqlalchemy import func, select

from counter_app.store.models import CaseRow, OutboxEntry, WorklistEntry
from counter_app.sync.client import PlatformClient, SyncError
from counter_app.sync.progress import pull_progress
from counter_app.sync.worklist import fetch_worklist, lookup_data_sharing

CJK = re.compile(r"[\u4e00-\u9fff]")


def profile(max_examples: int) -> settings:
    return settings(max_examples=max_examples, deadline=None, report_multiple_bugs=False,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


class Replay(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status, headers, body = self.server.answer
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def platform():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    server.answer = (200, {}, b"{}")
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=20)
json_values = st.recursive(json_scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c,
                                                                                             max_size=4),
                           max_leaves=20)
HASH = "ab" * 32


def _with_junk(template):
    """A well-formed answer with one value anywhere in it replaced by junk."""
    def mutate(args):
        obj, (path_seed, junk) = args
        paths = []

        def walk(o, p):
            paths.append(p)
            if isinstance(o, dict):
                for k, v in o.items():
                    walk(v, p + (k,))
            elif isinstance(o, list):
                for i, v in enumerate(o):
                    walk(v, p + (i,))
        walk(obj, ())
        path = paths[path_seed % len(paths)]
        if not path:
            return junk
        parent = obj
        for k in path[:-1]:
            parent = parent[k]
        parent[path[-1]] = junk
        return obj
    return st.tuples(st.just(template), st.tuples(st.integers(0, 10**6), json_values)).map(
        lambda a: mutate((json.loads(json.dumps(a[0])), a[1])))


GOOD = {
    "health": {"api": "v1", "status": "ok"},
    "worklist": {"entries": [{"platform_id": "P1", "approved_on": "2026-11-30",
                              "application": {"applicant": {"name": "张建军", "id_number": "410702199001011234"}}}]},
    "attachments": {"attachments": [{"sha256": HASH, "state": "complete", "received": 10}]},
    "receipt": {"receipt": {"business_key": "BK/v1", "platform_case_id": "X"}, "replayed": False},
    "progress": {"cases": [{"business_key": "BK/v1", "items": [
        {"item": 1, "status": "accepted", "updated_at": "2026-11-30T10:00:00+08:00", "history": [
            {"status": "accepted", "at": "2026-11-30T10:00:00+08:00", "note": ""}]}]}], "unknown": []},
    "lookup": {"results": {"hukou_cancelled": {"verified": True, "value": True}}},
    "error": {"code": "E_DATA", "message": "办件数据不完整", "detail": {"missing": [HASH]}},
}

bodies = (st.binary(max_size=120) | json_values.map(lambda v: json.dumps(v).encode())
          | st.sampled_from(list(GOOD.values())).flatmap(_with_junk).map(lambda v: json.dumps(v).encode())
          | st.sampled_from(list(GOOD.values())).map(lambda v: json.dumps(v).encode()))
answers = st.tuples(
    # Success codes weighted up: that is where the answer's body gets parsed.
    st.sampled_from([200, 201]) | st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 405, 408, 409, 413, 415,
                                                   422, 429, 500, 502, 503]),
    st.fixed_dictionaries({}, optional={"Content-Type": st.sampled_from(["application/json", "text/html",
                                                                        "application/json; charset=gbk"]),
                                        "Retry-After": st.text(max_size=30).filter(lambda t: "\n" not in t
                                                                                   and "\r" not in t).map(
                                            lambda t: t.encode("latin-1", "replace").decode("latin-1"))}),
    bodies)

CALLS = {
    "health": lambda c: c.health(),
    "whoami": lambda c: c.whoami(),
    "worklist": lambda c: c.worklist("410702"),
    "attachment_states": lambda c: c.attachment_states([HASH]),
    "upload_attachment": lambda c: c.upload_attachment(HASH, b"0123456789", chunk=4),
    "submit_case": lambda c: c.submit_case("key-1", {"business_key": "BK/v1"}),
    "list_cases": lambda c: c.list_cases(),
    "get_case": lambda c: c.get_case("X"),
    "progress": lambda c: c.progress(["BK/v1"]),
    "lookup": lambda c: c.lookup("410702199001011234"),
    "submit_rating": lambda c: c.submit_rating("k", business_key="BK/v1", stage="acceptance", level="满意"),
}


def _client(platform):
    return PlatformClient(f"http://127.0.0.1:{platform.server_port}", "token-1", timeout=(2.0, 5.0))


@profile(250)
@given(call=st.sampled_from(sorted(CALLS)), answer=answers)
# Shapes found earlier, always tried: a null body, a list item that is not an object, a
# non-numeric offset, a "missing" list that is not a list.
@example(call="attachment_states", answer=(200, {}, b"null"))
@example(call="attachment_states", answer=(200, {}, b'{"attachments":[{}]}'))
@example(call="upload_attachment", answer=(200, {}, b'{"state":"partial","received":"x"}'))
@example(call="submit_case", answer=(409, {}, b'{"code":"attachments_missing","detail":{"missing":5}}'))
def test_every_client_call_returns_or_raises_a_sync_error(platform, call, answer):
    platform.answer = answer
    try:
        CALLS[call](_client(platform))
    except SyncError as exc:
        assert CJK.search(exc.message), exc.message


def _worklist_rows(window):
    with window.sessions() as s:
        return sorted((r.platform_id, r.payload_enc) for r in s.execute(select(WorklistEntry)).scalars())


@profile(60)
@given(answer=answers)
@example(answer=(200, {}, b"null"))
@example(answer=(200, {}, b'{"entries":[{"platform_id":"P","application":[1]}]}'))
def test_fetch_worklist_stores_a_good_answer_or_nothing(window, platform, answer):
    before = _worklist_rows(window)
    platform.answer = answer
    try:
        n = fetch_worklist(window, _client(platform))
    except SyncError as exc:
        assert CJK.search(exc.message)
        assert _worklist_rows(window) == before
        return
    assert isinstance(n, int)


@profile(40)
@given(answer=answers)
def test_data_sharing_lookup_answers_or_explains(window, platform, answer):
    platform.answer = answer
    try:
        results = lookup_data_sharing(window, "410702199001011234", client=_client(platform))
    except SyncError as exc:
        assert CJK.search(exc.message)
        return
    assert isinstance(results, dict)


@pytest.fixture
def acked_case(window):
    """One case the platform acknowledged, so progress answers have something to apply to."""
    from tests.security.casework import finalize_case

    rec, _, _ = finalize_case(window, 81)
    with window.sessions.begin() as s:
        window.cases.mark_acknowledged(s, s.get(CaseRow, rec.id))
        ob = s.execute(select(OutboxEntry).where(OutboxEntry.case_id == rec.id)).scalar_one()
        ob.status = "acked"
        bk = ob.business_key
    GOOD["progress"]["cases"][0]["business_key"] = bk
    return rec, bk


@profile(60)
@given(answer=answers, seed=st.integers(0, 10**6))
@example(answer=(200, {}, b"null"), seed=0)
@example(answer=(200, {}, b'{"cases":[{"business_key":"BK/v1","items":[{"item":[1]}]}]}'), seed=0)
def test_pull_progress_applies_or_explains(window, platform, acked_case, answer, seed):
    rec, bk = acked_case
    status, headers, body = answer
    if seed == 0 or random.Random(seed).random() < 0.5:  # often about our real business key
        body = body.replace(b"BK/v1", bk.encode())
    platform.answer = (status, headers, body)
    try:
        pull_progress(window, _client(platform))
    except SyncError as exc:
        assert CJK.search(exc.message)
    with window.sessions() as s:
        assert s.execute(select(func.count()).select_from(CaseRow)).scalar_one() == 1
    window.cases.get(rec.id)  # the case still opens
