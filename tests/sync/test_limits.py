"""Limits hold before a body is in memory: a 200 MB chunked upload is refused at 20 MB while the
server's memory stays flat; absurd nesting and numbers are a 400 with the contract's error, never
a 500 with a traceback; a method a path does not serve is a 405 that says what it does serve."""
from __future__ import annotations

import hashlib
from pathlib import Path

import requests

from counter_app.sync import contract as C
from tests.sync.helpers import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_huge_chunked_upload_is_refused_while_it_arrives(platform_process):
    url = f"{platform_process.url}{C.API_PREFIX}/attachments/{hashlib.sha256(b'x').hexdigest()}"
    before = _rss_kb(platform_process.proc.pid)
    sent = 0

    def body():  # no Content-Length: chunked, as a hostile or broken client would send it
        nonlocal sent
        chunk = b"\0" * (1 << 20)
        for _ in range(200):
            sent += len(chunk)
            yield chunk

    try:
        r = requests.put(url, data=body(), headers=AUTH, timeout=60)
        status, code = r.status_code, r.json()["code"]
    except requests.exceptions.ConnectionError:
        status, code = 413, "too_large"  # the server answered and closed while we were still sending
    grown_mb = (_rss_kb(platform_process.proc.pid) - before) / 1024
    assert (status, code) == (413, "too_large")
    assert grown_mb < 40, f"server grew {grown_mb:.0f} MB for a refused upload"


def test_declared_oversize_is_refused_before_reading(platform):
    """Only the headers are sent (Content-Length: 50 MB): the answer comes without waiting for a body."""
    import http.client
    import json
    from urllib.parse import urlsplit

    u = urlsplit(platform.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.putrequest("POST", f"{C.API_PREFIX}/progress/query")
    for k, v in {**AUTH, "Content-Type": "application/json", "Content-Length": str(50 << 20)}.items():
        conn.putheader(k, v)
    conn.endheaders()
    r = conn.getresponse()
    body = json.loads(r.read())
    conn.close()
    assert r.status == 413 and body["code"] == "too_large" and "上限" in body["message"]


def test_deep_nesting_and_huge_numbers_are_400_not_500(platform):
    deep = b"[" * 100_000 + b"]" * 100_000
    r = requests.post(f"{platform.url}{C.API_PREFIX}/progress/query", data=deep,
                      headers={**AUTH, "Content-Type": "application/json"}, timeout=20)
    assert r.status_code == 400 and r.json()["code"] == "invalid_request"
    r = requests.get(f"{platform.url}{C.API_PREFIX}/cases", params={"page": 10**20}, headers=AUTH, timeout=10)
    assert r.status_code == 400 and "page" in r.json()["message"]
    r = requests.get(f"{platform.url}{C.API_PREFIX}/worklist", params={"date": "0185-01-17"}, headers=AUTH, timeout=10)
    assert r.status_code == 200 and r.json()["entries"] == []  # no applications from the year 185


def test_a_case_nested_too_deep_is_refused_with_its_field(platform):
    nested: dict = {}
    cur = nested
    for _ in range(40):
        cur["x"] = {}
        cur = cur["x"]
    body = {"business_key": "410702-01-20260302-0007-3/v1", "case": {
        "schema": "counter-app/case/v1", "case_no": "410702-01-20260302-0007-3", "version": 1,
        "center_code": "410702", "window_no": "01", "operator": "clerk01", "finalized_at": "2026-03-02T10:00:00+08:00",
        "application": {"items": [1], "applicant": {"name": "张三", "id_number": "410702199001011234"}, "deep": nested},
        "attachments": [], "content_digest": "0" * 64}}
    r = requests.post(f"{platform.url}{C.API_PREFIX}/cases", json=body,
                      headers={**AUTH, C.IDEMPOTENCY_HEADER: "6f1c1d4e-7a0b-4c1e-9d55-3f2a8b9c0d1e"}, timeout=10)
    assert r.status_code == 422 and r.json()["code"] == "invalid_case" and "application" in r.json()["message"]


def test_405_lists_what_the_path_serves(platform):
    r = requests.request("TRACE", f"{platform.url}{C.API_PREFIX}/cases", headers=AUTH, timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, POST" and r.json()["code"] == "method_not_allowed"
    r = requests.put(f"{platform.url}{C.API_PREFIX}/attachments/query", headers=AUTH, json={}, timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"


def test_lookup_of_a_number_whose_region_has_no_county_is_422_not_500(platform):
    # The case the fuzzer found with a random seed (stdnum's table has 130295 without a county).
    r = requests.post(f"{platform.url}{C.API_PREFIX}/data-sharing/lookup", json={"id_number": "130295922009246523"},
                      headers=AUTH, timeout=10)
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"
