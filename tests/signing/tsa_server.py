"""A time-stamping authority on loopback: real RFC 3161 requests over real HTTP.

The answering side is pyHanko's ``DummyTimeStamper`` (it signs the TSTInfo with the test CA's
time-stamping certificate); the program's client side is the same HTTP client it uses against a
real TSA.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import keys as asn1_keys
from asn1crypto import pem, tsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper


class LoopbackTSA:
    def __init__(self, cert_pem: bytes, key_pem: bytes, root_pem: bytes):
        load = lambda b: pem.unarmor(b)[2]  # noqa: E731
        self.stamper = DummyTimeStamper(tsa_cert=asn1_x509.Certificate.load(load(cert_pem)),
                                        tsa_key=asn1_keys.PrivateKeyInfo.load(load(key_pem)),
                                        certs_to_embed=[asn1_x509.Certificate.load(load(root_pem))])
        self.requests = 0
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                tsa.requests += 1
                answer = tsa.stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):  # noqa: ANN002 - keep test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsa"
        self._thread = threading.Thread(target=self.server.serve_forever, name="loopback-tsa", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)
