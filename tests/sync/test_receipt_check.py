"""A receipt is accepted only for the case's content: its digest must equal the case's, and the
platform, asked after the receipt, must hold every attachment completely. A lying platform on
loopback (real HTTP) echoes the business key with an all-zero digest and claims every attachment
complete: nothing may be marked acknowledged."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from counter_app.store.models import OutboxEntry
from counter_app.sync.client import PlatformClient
from counter_app.sync.outbox import OutboxDrainer
from tests.sync.helpers import TOKEN, make_cases


class LyingPlatform:
    def __init__(self, *, digest: str | None, held: str):
        self.digest, self.held = digest, held  # digest None = echo the real one
        self.uploads = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # noqa: ANN002
                pass

            def _send(self, status, body):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _body(self):
                return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")

            def do_GET(self):
                self._send(200, {"status": "ok", "api": "v1"})

            def do_PUT(self):
                outer.uploads += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._send(500, {"code": "internal", "message": "x"})

            def do_POST(self):
                body = self._body()
                if self.path.endswith("/attachments/query"):
                    self._send(200, {"attachments": [{"sha256": h, "state": outer.held, "received": 0}
                                                     for h in body["sha256"]]})
                elif self.path.endswith("/cases"):
                    digest = outer.digest if outer.digest is not None else body["case"]["content_digest"]
                    self._send(201, {"receipt": {"platform_case_id": "P-1", "business_key": body["business_key"],
                                                 "content_digest": digest, "received_at": "2026-12-01T08:00:00Z",
                                                 "items": [1]}, "replayed": False, "received_count": 1})
                else:
                    self._send(404, {"code": "not_found", "message": "x"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _statuses(window):
    with window.sessions() as s:
        return [e.status for e in s.execute(select(OutboxEntry)).scalars()]


@pytest.mark.parametrize("digest, held", [("0" * 64, "complete"), (None, "absent")],
                         ids=["zero-digest-echo", "attachments-not-held-after-receipt"])
def test_a_receipt_that_does_not_match_the_case_is_not_an_acknowledgement(window, monkeypatch, digest, held):
    make_cases(window, 2)
    platform = LyingPlatform(digest=digest, held=held)
    try:
        if held == "absent":
            # Before the submission the platform claims the files; after the receipt it does not.
            platform.held = "complete"
            real_submit = PlatformClient.submit_case

            def submit_then_lose(self, *a, **kw):
                answer = real_submit(self, *a, **kw)
                platform.held = "absent"
                return answer
            monkeypatch.setattr(PlatformClient, "submit_case", submit_then_lose)
        report = OutboxDrainer(window, PlatformClient(platform.url, TOKEN), prefetch=False).drain(
            ignore_schedule=True)
    finally:
        platform.close()
    assert report.sent == 0 and report.replayed == 0
    assert _statuses(window) == ["waiting", "waiting"]
    assert "未当作已接收" in report.error
