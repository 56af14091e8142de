"""The HTTP transport to the platform: ``requests`` with verification always on.

- Certificate verification is never switched off. ``settings.ca_bundle`` names the government
  extranet's CA file; empty means the system store.
- Plain ``http://`` is refused except to loopback (the reference platform on this PC).
- ``settings.pinned_cert_sha256``: the SHA-256 of the server's DER certificate, checked on every
  new connection *in addition to* chain and host name verification (urllib3's own
  ``assert_fingerprint`` would switch host name checking off, so the check is done here, after
  the normal handshake).
- Connect/read timeouts on every request, and an overall deadline (:class:`Deadline`): read
  timeouts apply per ``recv``, so a server trickling one byte every few seconds would otherwise
  hold a request for ever. When the deadline passes, the request's sockets are shut down from a
  timer thread and the request fails like a cut connection (:class:`DeadlineExceeded`).

Thread contract: a ``requests.Session`` is used by one thread at a time (the sync worker owns
its session; the GUI's look-ups build their own).
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from counter_app.errors import UserError

DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds
DEFAULT_DEADLINE = 60.0  # seconds for one whole request: connect, send, headers and body

# Sockets in use per requesting thread, so the deadline timer can cut exactly that request.
_SOCKETS: dict[int, list] = {}
_SOCKETS_LOCK = threading.Lock()


def _register(sock) -> None:  # noqa: ANN001
    if sock is None:
        return
    with _SOCKETS_LOCK:
        _SOCKETS.setdefault(threading.get_ident(), []).append(sock)


class DeadlineExceeded(requests.exceptions.ConnectionError):
    """The request did not finish within its overall deadline (a stalled or trickling server)."""


class Deadline:
    """``with Deadline(seconds):`` around one request on this thread's session."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.fired = False
        self._thread = threading.get_ident()
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def _cut(self) -> None:
        self.fired = True
        with _SOCKETS_LOCK:
            socks = list(_SOCKETS.get(self._thread, []))
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> "Deadline":
        with _SOCKETS_LOCK:
            _SOCKETS[self._thread] = []
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self._timer.cancel()
        with _SOCKETS_LOCK:
            _SOCKETS.pop(self._thread, None)


class _TrackedHTTPConnection(HTTPConnection):
    def request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        if self.sock is None:
            self.connect()
        _register(self.sock)
        return super().request(*args, **kwargs)


class _TrackedHTTPSConnection(HTTPSConnection):
    def request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        if self.sock is None:
            self.connect()
        _register(self.sock)
        return super().request(*args, **kwargs)


class _TrackedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _TrackedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


class TransportConfigError(UserError):
    """The message is Chinese and says what to do (see ``counter_app.errors``)."""


class PinMismatch(requests.exceptions.SSLError):
    """The server's certificate is valid but not the pinned one."""


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TransportConfigError(f"省平台接口地址不正确：{url}（应以 https:// 开头）。")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise TransportConfigError("省平台接口地址必须使用 https://（政务外网传输须加密）；只有本机测试平台可用 http://。")
    return url.rstrip("/")


def _pinned_pool_classes(pin: str):
    pin = pin.lower()

    class PinnedHTTPSConnection(_TrackedHTTPSConnection):
        def connect(self) -> None:
            super().connect()
            der = self.sock.getpeercert(binary_form=True) if self.sock is not None else None
            got = hashlib.sha256(der or b"").hexdigest()
            if not hmac.compare_digest(got, pin):
                self.close()
                raise PinMismatch(f"服务器证书指纹 {got[:16]}… 与固定的指纹不符")

    class PinnedHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = PinnedHTTPSConnection

    return PinnedHTTPSConnectionPool


class TrackingAdapter(HTTPAdapter):
    """Connections whose sockets a :class:`Deadline` can cut."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _TrackedHTTPPool, "https": _TrackedHTTPSPool}


class PinningAdapter(HTTPAdapter):
    def __init__(self, pin: str, **kw):
        self._pin = pin
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _TrackedHTTPPool,
                                                   "https": _pinned_pool_classes(self._pin)}


def make_session(*, ca_bundle: str = "", pinned_cert_sha256: str = "") -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies or netrc from the environment: the extranet path is configured here
    if ca_bundle:
        if not Path(ca_bundle).is_file():
            raise TransportConfigError(f"政务外网CA证书文件不存在：{ca_bundle}。请在设置中改正。")
        session.verify = ca_bundle
    else:
        session.verify = True
    session.mount("http://", TrackingAdapter(pool_connections=4, pool_maxsize=4))
    if pinned_cert_sha256:
        session.mount("https://", PinningAdapter(pinned_cert_sha256, pool_connections=4, pool_maxsize=4))
    else:
        session.mount("https://", TrackingAdapter(pool_connections=4, pool_maxsize=4))
    session.headers["User-Agent"] = "counter-app/1 (henan-veteran-one-thing window)"
    return session


def session_for(settings) -> requests.Session:
    return make_session(ca_bundle=settings.ca_bundle, pinned_cert_sha256=settings.pinned_cert_sha256)
