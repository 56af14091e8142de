"""A small fault-injecting TCP proxy for HTTP/1.1 on loopback.

It sits between the window's client and the reference platform and forwards real bytes. It
understands just enough HTTP (request/response heads and Content-Length bodies, keep-alive) to
apply a fault to one exchange:

- ``PASS`` — forward;
- ``CUT`` — forward the whole request, let the server process it and start answering, then
  close the client's connection without a byte of the answer (the connection cut after the request
  body was sent: the server has the case, the client does not know);
- ``DELAY(s)`` — hold the server's answer ``s`` seconds before forwarding (slow network; beyond
  the client's read timeout it is a timeout);
- ``RESPOND(status, headers, body)`` — answer in the proxy's name without forwarding (a 5xx
  burst from a gateway, a captive portal's 200 HTML page);
- ``REFUSE`` — close the client's connection at once (network down).

``faults`` decides per exchange: a callable ``(method, path, n) -> Fault`` where ``n`` counts the
exchanges seen so far with that method and path.
"""
from __future__ import annotations

import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Fault:
    kind: str = "pass"
    delay: float = 0.0
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


PASS = Fault("pass")
CUT = Fault("cut")
REFUSE = Fault("refuse")


def DELAY(seconds: float) -> Fault:  # noqa: N802 - reads like the constants above
    return Fault("delay", delay=seconds)


def RESPOND(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Fault:  # noqa: N802
    return Fault("respond", status=status, body=body, headers=tuple((headers or {}).items()))


class _Closed(Exception):
    pass


class _Reader:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise _Closed
        self.buf += chunk

    def head(self) -> bytes:
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\r\n\r\n") + 4
        head, self.buf = self.buf[:i], self.buf[i:]
        return head

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            return int(v.strip())
    return 0


@dataclass
class FaultProxy:
    upstream: tuple[str, int]
    faults: Callable[[str, str, int], Fault] = field(default=lambda m, p, n: PASS)
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://{self.host}:{self.port}"
        self.counts: Counter[tuple[str, str]] = Counter()
        self.log: list[tuple[str, str, str]] = []  # (method, path, fault kind)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.close()
            except OSError:
                pass

    def __enter__(self) -> "FaultProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def seen(self, method: str, path_prefix: str, kind: str | None = None) -> int:
        with self._lock:
            return sum(1 for m, p, k in self.log if m == method and p.startswith(path_prefix)
                       and (kind is None or k == kind))

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._conns.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        creader = _Reader(client)
        try:
            while not self._stop.is_set():
                head = creader.head()
                body = creader.exactly(_content_length(head))
                method, path = head.split(b" ", 2)[:2]
                method_s, path_s = method.decode(), path.decode().split("?")[0]
                with self._lock:
                    n = self.counts[(method_s, path_s)]
                    self.counts[(method_s, path_s)] += 1
                fault = self.faults(method_s, path_s, n)
                with self._lock:
                    self.log.append((method_s, path_s, fault.kind))
                if fault.kind == "refuse":
                    return
                if fault.kind == "respond":
                    reason = {200: "OK", 429: "Too Many Requests", 500: "Internal Server Error",
                              502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(
                        fault.status, "Status")
                    hdrs = "".join(f"{k}: {v}\r\n" for k, v in fault.headers)
                    client.sendall(f"HTTP/1.1 {fault.status} {reason}\r\nContent-Length: {len(fault.body)}\r\n"
                                   f"{hdrs}\r\n".encode() + fault.body)
                    continue
                if upstream is None:
                    upstream = socket.create_connection(self.upstream, timeout=60)
                    upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    ureader = _Reader(upstream)
                upstream.sendall(head + body)
                rhead = ureader.head()
                if fault.kind == "cut":
                    return  # the server has processed the request; the client never hears back
                rbody = b"" if method_s == "HEAD" else ureader.exactly(_content_length(rhead))
                if fault.kind == "delay":
                    self._stop.wait(fault.delay)
                client.sendall(rhead + rbody)
        except (_Closed, OSError, ValueError, IndexError):
            return
        finally:
            for s in (client, upstream):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass
            with self._lock:
                if client in self._conns:
                    self._conns.remove(client)
